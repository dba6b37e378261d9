Feature: Session: the CONNECT, the connected flag and the last will
  The module registers a last will when it connects, announces `yes` on the connected topic once
  the broker accepted it, and the broker publishes the will when the connection is lost without
  DISCONNECT. Topics, QoS and retain come from the profile under test.

  Background:
    Given the module is connected to the broker

  @V3-SES-3 @SHIP-3
  Scenario: The CONNECT carries the profile's will
    Then the module's CONNECT carries the profile's will

  @V3-SES-4 @SHIP-1.3
  Scenario: The module announces that it is connected, retained
    Then the module publishes that it is connected
    And a late subscriber receives the connected flag "yes" as a retained message

  @V3-SES-5 @SHIP-1.3
  Scenario: A power cut makes the broker publish the will
    When the module loses power
    Then subscribers receive the will on the connected topic
    And a late subscriber receives the connected flag "no" as a retained message

  @V3-SES-5
  Scenario: A network cut makes the broker publish the will
    When the module's network is cut
    Then subscribers receive the will on the connected topic
