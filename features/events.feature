Feature: Events on the profile's event topics
  Every system event the module raises goes out while connected, on each event form the profile
  defines (the draft's `events`; the shipped legacy `event` and MQTT-style `event/<a>/<b>`), except
  the names the profile excludes (`ticker.*` everywhere; also `clock.*` and `system.event` in the
  shipped firmware).

  Background:
    Given the module is connected to the broker

  @V3-EVT-1 @SHIP-1.8 @SHIP-2
  Scenario: A raised event goes out on every event form of the profile
    When the module raises event "vehicle.charge.start"
    Then the module publishes event "vehicle.charge.start"

  @V3-EVT-1 @SHIP-1.8
  Scenario: Ticker events are never published
    When the module raises event "ticker.60"
    And the module raises event "vehicle.locked"
    Then the module does not publish event "ticker.60"
    And the module publishes event "vehicle.locked"

  @SHIP-1.8 @profile:fw-*
  Scenario: The shipped firmware also keeps clock and system events to itself
    When the module raises event "clock.0800"
    And the module raises event "system.event"
    And the module raises event "vehicle.unlocked"
    Then the module does not publish event "clock.0800"
    And the module does not publish event "system.event"
    And the module publishes event "vehicle.unlocked"
