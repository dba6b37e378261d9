Feature: Metrics: topic, payload, retain and QoS
  Each metric goes out on the profile's metric topic (dots become slashes), with its value as
  the payload, retained, at the profile's QoS. Flags are checked on the wire (the tap), retained
  delivery through the broker (a late subscriber).

  @V3-MET-1 @V3-MET-2 @V3-MET-3 @SHIP-1.2 @SHIP-2
  Scenario: A metric defined at boot goes out in the pass after connecting
    Given metric "v.b.soc" is "80" at boot
    And the module is connected to the broker
    Then the module publishes metric "v.b.soc" = "80"
    And the module publishes metric "v.b.soc" matching "^[0-9]+$"
    And the module publishes metric "v.b.soc" within 0.5 of 80

  @V3-MET-1 @V3-MET-2 @V3-MET-3 @V3-MET-4 @SHIP-1.2 @SHIP-4.5
  Scenario: A changed metric goes out on the next idle cadence tick
    Given metric "v.b.soc" is "80" at boot
    And the module's parameter "updatetime.sendall" is "86400"
    And the module is connected to the broker
    When metric "v.b.soc" is set to "75"
    And 11 minutes pass
    Then the module publishes metric "v.b.soc" = "75"
    And metric "v.b.soc" was published 1 time in the last 10 minutes

  @V3-MET-3 @SHIP-1.2
  Scenario: A late subscriber receives the last value
    Given metric "v.b.soc" is "80" at boot
    And the module is connected to the broker
    Then a late subscriber receives metric "v.b.soc" = "80" as a retained message

  @V3-MET-4 @SHIP-4.5
  Scenario: An unchanged metric is not sent again
    Given metric "v.b.soc" is "80" at boot
    And the module's parameter "updatetime.sendall" is "86400"
    And the module is connected to the broker
    When metric "v.b.soc" is set to "80"
    And 25 minutes pass
    Then metric "v.b.soc" was not published in the last 24 minutes
