Feature: Real traffic: a DBC-decoded vehicle and a CRTD capture with expected values
  The Kona EV P-CAN log is replayed into the module running the YAML vehicle
  `scenarios/vehicles/hyundai-kona-ev.yaml` (DBC decoding). Expected values were computed
  independently from the DBC signal definitions (BMS_542 SocDisp: bits 0-7 x 0.5 %; VCU_200
  CURRENT_GEAR: bits 11-13). None of the shared logs carries CRTD `CMT` records, so a small
  synthetic CRTD (features/data/roadster-synthetic.crtd) holds Roadster frames from
  roadster-decoder.md §9.3 with their expected payloads as OVMS `CMT Metric {"name": …, "value": …}` records.

  Background:
    Given the module's parameter "updatetime.idle" is "1"
    And the module's parameter "updatetime.on" is "1"
    And the module's parameter "updatetime.charging" is "1"
    And the module's parameter "updatetime.awake" is "1"
    And the module's parameter "updatetime.sendall" is "86400"

  @real-log @dbc @SHIP-1.2 @V3-MET-2
  Scenario: Kona EV power off/on/ready/off: SOC and gear as the DBC decodes them
    Given the module runs vehicle "hyundai-kona-ev"
    And the module is connected to the broker
    When the log "scenarios/logs/kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv" is replayed on the virtual clock
    And 2 seconds pass
    Then the module publishes metric "v.b.soc" = "36.5"
    And metric "v.b.soc" was published with the values "36.5" in that order
    And the module publishes metric "v.e.gear" = "0"

  @real-log @crtd @roadster @SHIP-1.2 @V3-MET-2
  Scenario: A CRTD capture's CMT records give the expected payloads
    Given the module runs vehicle "tesla-roadster"
    And the module is connected to the broker
    When the log "features/data/roadster-synthetic.crtd" is replayed on the virtual clock
    And 2 seconds pass
    Then the module published every value the CMT records of "features/data/roadster-synthetic.crtd" expect
    And metric "v.b.soc" was published with the values "96, 95" in that order
