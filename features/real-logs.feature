Feature: Real traffic: Roadster and Kona EV CAN logs replayed into the emulated module
  The shared Tesla Roadster logs of 2012-02-18 are replayed on the virtual clock into the module
  running vehicle `tesla-roadster`, with every cadence interval set to one second so that each
  value the decoder holds for a second or more goes out. The published payload strings are the
  ones roadster-decoder.md §9.3-9.4 derives from the v3 code path.

  Background:
    Given the module runs vehicle "tesla-roadster"
    And the module's parameter "updatetime.idle" is "1"
    And the module's parameter "updatetime.on" is "1"
    And the module's parameter "updatetime.charging" is "1"
    And the module's parameter "updatetime.awake" is "1"
    And the module's parameter "updatetime.sendall" is "86400"

  @real-log @roadster @SHIP-1.2 @V3-MET-2 @V3-MET-4
  Scenario: drive-a: SOC steps down, the car drives at up to 38 mph, then parks
    Given the module is connected to the broker
    When the log "scenarios/logs/tesla-roadster_20120218.drive-a.csv" is replayed on the virtual clock
    And 2 seconds pass
    Then metric "v.b.soc" was published with the values "96, 95, 94, 93" in that order
    And the highest value published for metric "v.p.speed" is "61.1552"
    And metric "v.e.on" was published with the values "yes, no" in that order
    And the module publishes metric "v.b.range.ideal" matching "^[0-9]+(\.[0-9]+)?$"
    And metric "v.b.range.ideal" was published with the values "300.948" in that order
    And metric "v.b.range.est" was published with the values "273.589" in that order
    And the module publishes metric "v.c.voltage" = "65535"
    And the module publishes metric "v.p.direction" matching "^[0-9]+$"
    And metric "v.i.temp" was published with the values "17" in that order
    And metric "v.e.gear" was never published
    And a late subscriber receives metric "v.b.soc" = "93" as a retained message

  @real-log @roadster @SHIP-1.2
  Scenario: topoff: the charge starts, tops off and finishes
    Given the module is connected to the broker
    When the log "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv" is replayed on the virtual clock
    And 2 seconds pass
    Then metric "v.c.state" was published with the values "done, prepare, charging, done" in that order
    And metric "v.c.charging" was published with the values "yes, no" in that order
    And metric "v.c.substate" was published with the values "timerwait" in that order
    And metric "v.c.kwh" was published with the values "2" in that order
    And metric "v.c.mode" was never published

  @real-log @roadster @SHIP-1.2
  Scenario: vdsstop: the VDS stops the charge and the charger waits on request
    Given the module is connected to the broker
    When the log "scenarios/logs/tesla-roadster_20120218.charge-vdsstop.csv" is replayed on the virtual clock
    And 2 seconds pass
    Then metric "v.c.state" was published with the values "stopped, prepare, charging, stopped" in that order
    And metric "v.c.substate" was published with the values "onrequest" in that order

  @real-log @roadster @SHIP-1.7 @V3-NOT-1
  Scenario: breakerstop: the VDS error 954 goes out as an error notification
    Given the module is connected to the broker
    When the log "scenarios/logs/tesla-roadster_20120218.charge-breakerstop.csv" is replayed on the virtual clock
    And 2 seconds pass
    Then metric "v.c.charging" was published with the values "yes, no" in that order
    And metric "v.c.state" was published with the values "charging, stopped" in that order
    And the module publishes the "error" notification "code" with text "TR,954,2097152"
