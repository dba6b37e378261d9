Feature: Notifications on the profile's notify topics
  Text notifications (info, error, alert) and data notifications go out on the profile's notify
  topics, with the profile's QoS and never retained. A central daemon reaches every vehicle's
  notifications with one wildcard subscription.

  Background:
    Given the module is connected to the broker

  @V3-NOT-1 @SHIP-1.7 @SHIP-2
  Scenario: An info notification goes out on the profile's notify topic, not retained
    When the module raises a "info" notification "charge.started" with text "Charging started"
    Then the module publishes the "info" notification "charge.started" with text "Charging started"

  @V3-NOT-1 @SHIP-1.7
  Scenario: An alert notification goes out on the profile's notify topic
    When the module raises a "alert" notification "batt.12v.alert" with text "12V battery low"
    Then the module publishes the "alert" notification "batt.12v.alert" with text "12V battery low"

  @V3-NOT-1 @SHIP-1.7 @SHIP-4.6
  Scenario: A data notification goes out with the profile's data QoS
    When the module raises a "data" notification "log.grid" with text "grid,1,2,3"
    Then the module publishes the "data" notification "log.grid" with text "grid,1,2,3"

  @V3-NOT-2 @SHIP-1.7
  Scenario: One wildcard subscription receives every vehicle's notifications
    Then a subscriber to every vehicle's notifications receives the "info" notification "charge.done" with text "Charge done" raised now
