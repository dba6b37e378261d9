Feature: Cadence of modified metrics on the virtual clock
  With no client live, modified metrics go out once per idle interval (10 minutes in every
  profile); with a client live, once per connected interval (1 minute in the draft and up to
  3.3.005, 10 seconds from 3.3.006 on). The expected intervals come from the profile's
  parameters, so one scenario serves every profile. Half an hour of module time takes
  milliseconds: time moves event to event, and the harness waits at a barrier, never sleeps.

  Background:
    Given the module's parameter "updatetime.sendall" is "86400"
    And the module is connected to the broker

  @V3-CAD-2 @V3-MET-4 @SHIP-4.1 @SHIP-4.2
  Scenario: With no client live, modified metrics go out once per idle interval
    When metric "v.b.soc" changes every 30 seconds for 31 minutes
    Then publishes of metric "v.b.soc" in the last 31 minutes are the profile's "updatetime.idle" apart, within 2 seconds
    And metric "v.b.soc" was published 3 times in the last 31 minutes

  @V3-CAD-1 @V3-CAD-3 @V3-CLI-1 @V3-CLI-3 @SHIP-1.4 @SHIP-4.1 @SHIP-4.2
  Scenario: With a client live, modified metrics go out once per connected interval
    Given an app client "app" connects and sends a heartbeat every 60 seconds
    When metric "v.b.soc" changes every 5 seconds for 6 minutes
    Then the module counts 1 peer
    And publishes of metric "v.b.soc" in the last 5 minutes are the profile's "updatetime.connected" apart, within 2 seconds

  @V3-CAD-3 @V3-CLI-4 @SHIP-1.4 @SHIP-4.2
  Scenario: When the last client expires, the cadence falls back to the idle interval
    Given an app client "app" connects and sends a heartbeat every 60 seconds
    And 1 minute passes
    When app client "app" stops sending heartbeats
    And 4 minutes pass
    Then the module counts 0 peers
    When metric "v.b.soc" changes every 30 seconds for 31 minutes
    Then publishes of metric "v.b.soc" in the last 31 minutes are the profile's "updatetime.idle" apart, within 2 seconds
