@fault @needs-mosquitto
Feature: Faults on a private broker: half-open network, broker restart, broker unreachable
  These scenarios run against a Mosquitto of their own (it is killed and restarted), with the
  module behind a fault-injecting tap where the network must fail silently.

  @V3-SES-5 @SHIP-3
  Scenario: A half-open network: the broker publishes the will after the keepalive bound
    Given metric "v.b.soc" is "80" at boot
    And the private module connects through a fault-injecting tap with a keepalive of 2 seconds
    And a subscriber watches the private module's connected flag
    When the private module's network goes half-open
    Then the subscriber receives the will between 2 and 10 seconds after the fault

  @V3-SES-4 @V3-MET-3 @SHIP-3 @SHIP-4.2
  Scenario: The broker is killed and restarted: the module reconnects and sends its full state
    Given metric "v.b.soc" is "80" at boot
    And the private module connects through a fault-injecting tap with a keepalive of 60 seconds
    When the private broker is killed
    Then the private module notices the lost connection
    When the private broker is restarted
    Then the private module reconnects after the profile's delay and sends its full state
    And a late subscriber to the private broker receives metric "v.b.soc" = "80" and the connected flag "yes", retained

  @SHIP-3 @protects-retry
  Scenario: The broker is unreachable at start: a clear error, then retries until it is back
    When the private module starts while its broker is unreachable
    Then the private module's connection fails with a message containing "unreachable"
    And the private module tries again after the profile's delay
    When the private broker is restarted
    Then the private module tries again after the profile's delay
    And the private module is connected
