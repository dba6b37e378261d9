Feature: The configurable topic prefix
  The prefix defaults to `ovms/<user>/<vehicle id>/`; a configured `server.v3 topic.prefix` is used
  verbatim, is re-read on every CONNECT, and every topic (will, connected flag, metrics) moves with
  it.

  @V3-SES-2 @SHIP-1.1 @SHIP-3
  Scenario: A prefix set by command takes effect at the next connection, for every topic
    Given metric "v.b.soc" is "80" at boot
    And the module is connected to the broker
    And an app client "app" connects and sends a heartbeat every 60 seconds
    When app client "app" moves the module's topic prefix to "ovms/{user}/{vehicle}-moved/" by command
    Then the module published metric "v.b.soc" under the prefix "ovms/{user}/{vehicle}-moved/"
    And the module publishes that it is connected
    And the module's CONNECT carries the profile's will
    And a late subscriber receives metric "v.b.soc" = "80" as a retained message

  @SHIP-1.1 @V3-MET-1
  Scenario: By default the prefix is ovms/<user>/<vehicle id>/
    Given metric "v.b.soc" is "80" at boot
    And the module is connected to the broker
    Then the module published metric "v.b.soc" under the prefix "ovms/{user}/{vehicle}/"
