Feature: Log lines
  The draft proposes a log topic (QoS 1, not retained); no shipped firmware has one, and the
  shipped module publishes nothing outside its documented topics.

  Background:
    Given the module is connected to the broker
    And an app client "app" connects and sends a heartbeat every 60 seconds

  @V3-LOG-1 @only-draft
  Scenario: Log lines go out on the draft's log topic
    Then the module publishes a log line containing "Connected to OVMS Server V3"
    And the module publishes a log line containing "has connected"

  @SHIP-1.9 @SHIP-1 @profile:fw-*
  Scenario: The shipped firmware has no log topic and publishes only documented topics
    When the module raises a "info" notification "charge.started" with text "Charging started"
    And the module raises event "vehicle.charge.start"
    Then the profile defines no log topic
    And every topic the module published is one the profile defines

  @SHIP-1 @V3-MET-1
  Scenario: Everything the module publishes is on a topic of its profile
    When 2 minutes pass
    Then every topic the module published is one the profile defines
