Feature: Recorded CAN traffic in, MQTT out
  A real CAN log is replayed into the emulated module on the virtual clock: the vehicle decoder
  turns frames into metrics, and the module publishes them on the profile's topics at its own
  cadence. Four minutes of log and ten minutes of cadence take well under a second.

  Background:
    Given the module runs vehicle "tesla-roadster"
    And the module is connected to the broker
    When the log "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv" is replayed on the virtual clock

  @V3-MET-1 @V3-MET-2 @V3-MET-3 @V3-CAD-2 @SHIP-1.2
  Scenario: A Tesla Roadster top-off charge ends in state done, published and retained
    When 10 minutes pass
    Then the module publishes metric "v.c.state" = "done"
    And the module publishes metric "v.b.soc" within 5 of 96
    And a late subscriber receives metric "v.c.state" = "done" as a retained message

  @V3-MET-4 @SHIP-4.1 @SHIP-4.2 @SHIP-4.5 @profile:fw-3.3.006
  Scenario: While the car charges, 3.3.006 sends the new charge state on a charging tick, once
    Then the module publishes metric "v.c.state" = "charging"
    And metric "v.c.state" was published 1 time in the last 4 minutes
