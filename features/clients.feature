Feature: Clients: heartbeats, expiry and wills
  An app client announces itself on the profile's client topic and repeats the heartbeat; the
  module counts live clients in s.v3.peers. A client whose heartbeat stops expires after two
  minutes (the shipped firmware purges on a 60-second ticker, so up to three); a `0`, sent
  by the client or by its will, removes it at once.

  Background:
    Given the module is connected to the broker
    And an app client "app" connects and sends a heartbeat every 60 seconds

  @V3-CLI-1 @V3-CLI-3 @V3-MET-5 @SHIP-1.4
  Scenario: A client with a running heartbeat stays counted
    When 10 minutes pass
    Then the module counts 1 peer

  @V3-CLI-4 @SHIP-1.4
  Scenario: A client that stops its heartbeat expires after two minutes
    Given 1 minute passes
    When app client "app" stops sending heartbeats
    Then the module counts 0 peers between 120 and 185 seconds after app client "app" last sent a heartbeat

  @V3-CLI-2 @V3-CLI-4 @SHIP-1.4
  Scenario: A client's will removes it at once
    When app client "app" vanishes
    Then the module counts 0 peers

  @V3-CLI-4 @SHIP-1.4
  Scenario: A client saying goodbye is removed at once
    When app client "app" says goodbye
    Then the module counts 0 peers
