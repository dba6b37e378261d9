Feature: Bad input on the module's subscriptions
  Malformed, over-long or binary commands, over-long topics and unknown clients are answered with
  an error or ignored, as the profile's firmware does, and the module stays on its connection.

  Background:
    Given metric "v.b.soc" is "80" at boot
    And the module is connected to the broker
    And an app client "app" connects and sends a heartbeat every 60 seconds

  @bad-input @SHIP-1.5 @V3-CMD-1
  Scenario: An empty command is answered with an error
    When app client "app" sends command "" with id "e1"
    Then app client "app" receives exactly 1 response to "e1"
    And the module is still on its first connection

  @bad-input @SHIP-1.5
  Scenario: An unknown command is answered, not run
    When app client "app" sends command "frobnicate the flux capacitor" with id "e2"
    Then app client "app" receives a response to "e2" containing "Unrecognised command"
    And the module is still on its first connection

  @bad-input @SHIP-1.5 @SHIP-4.6
  Scenario: Binary garbage on the command topic does not break the module
    When app client "app" sends 512 bytes of binary garbage as a command with id "g1"
    Then app client "app" receives exactly 1 response to "g1"
    And the module is still on its first connection
    And the module publishes metric "v.b.soc" = "80"

  @bad-input @SHIP-1.5
  Scenario: An over-long command payload is refused and the module stays connected
    When app client "app" sends a command of 70000 "m" characters with id "L1"
    Then app client "app" receives exactly 1 response to "L1"
    And the module is still on its first connection

  @bad-input @SHIP-1.4 @V3-CLI-3
  Scenario: A heartbeat on an over-long topic is handled and the module stays connected
    When app client "app" publishes "1" on a client topic 4000 characters long
    Then the module is still on its first connection
    And the module counts 2 peers

  @bad-input @SHIP-1.4 @V3-CLI-1
  Scenario: A heartbeat with an unexpected payload does not break the module
    When app client "app" publishes "maybe" on a client topic 80 characters long
    Then the module is still on its first connection
