Feature: Commands and responses
  A client sends a textual command on its own command topic; the module runs it once and answers
  on that client's response topic, with the profile's QoS, not retained. The draft carries the
  identifier as a leading tag in the payload, the shipped firmware as the last topic level.

  Background:
    Given metric "v.b.soc" is "80" at boot
    And the module is connected to the broker
    And an app client "app" connects and sends a heartbeat every 60 seconds

  @V3-CMD-1 @V3-CMD-2 @V3-CMD-3 @only-draft
  Scenario: A tagged command is answered with its tag on the client's response topic
    When app client "app" sends command "A1 metrics list v.b.soc" with id "A1"
    Then app client "app" receives a response to "A1" containing "A1 "
    And app client "app" receives a response to "A1" containing "80"

  @V3-CMD-1 @V3-CMD-2 @V3-CMD-3 @SHIP-1.5 @SHIP-2 @profile:fw-*
  Scenario: A command is answered on the response topic named by its command id
    When app client "app" sends command "metrics list v.b.soc" with id "q17"
    Then app client "app" receives a response to "q17" containing "80"

  @V3-CMD-4 @SHIP-1.5
  Scenario: A client sees only responses to its own commands, and a command runs once
    Given an app client "other" connects and sends a heartbeat every 60 seconds
    When app client "app" sends command "C7 metrics set x.hil.count 1" with id "C7"
    Then app client "app" receives exactly 1 response to "C7"
    And the module sent no response to app client "other"

  @V3-CMD-5 @SHIP-1.10
  Scenario: Configuration is read and written through the command processor
    When app client "app" sends command "config set server.v3 updatetime.idle 300" with id "cfg1"
    Then app client "app" receives a response to "cfg1" containing "Parameter has been set"
    When app client "app" sends command "config get server.v3 updatetime.idle" with id "cfg2"
    Then app client "app" receives a response to "cfg2" containing "300"

  @V3-CMD-5 @SHIP-1.5
  Scenario: A numeric v2-style command is not a command
    When app client "app" sends command "7" with id "n1"
    Then app client "app" receives a response to "n1" containing "Unrecognised command"

  @SHIP-1.5 @V3-CLI-4
  Scenario: A command from a client that is no longer counted is still answered
    Given 1 minute passes
    When app client "app" stops sending heartbeats
    And 4 minutes pass
    Then the module counts 0 peers
    When app client "app" sends command "metrics list v.b.soc" with id "late1"
    Then app client "app" receives a response to "late1" containing "80"
