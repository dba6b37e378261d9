Feature: Clients announce themselves when the module connects
  A client that is live before the module connects watches the module's connected flag and sends
  its heartbeat the moment the flag turns `yes` (V3-CLI-5), so a freshly connected module counts
  it at once instead of at the client's next periodic heartbeat. The control scenario's client
  does not watch the flag, and the module does not count it.

  @V3-CLI-5 @SHIP-1.4
  Scenario: A client live before the module connects is counted in the connect second
    Given an app client "app" is live before the module starts, sends a heartbeat every 100 seconds and answers the module's connected "yes" at once
    And the module is connected to the broker
    Then app client "app" sent a heartbeat at the module time the module connected
    And the module counts 1 peer

  @V3-CLI-5
  Scenario: A client that does not watch the connected flag is not counted until it speaks
    Given an app client "app" is live before the module starts, sends a heartbeat every 100 seconds and does not watch the connected flag
    And the module is connected to the broker
    Then the module counts 0 peers
    When 100 seconds pass
    Then the module counts 0 peers
