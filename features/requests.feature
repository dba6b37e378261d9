@profile:fw-3.3.006
Feature: On-demand requests (3.3.006 and later)
  A client asks for metrics by pattern on `request/metric` (they go out on their normal, retained
  metric topics) and for one config value on `request/config` (answered on the client's own
  config topic, QoS 0, not retained).

  Background:
    Given metric "v.b.soc" is "80" at boot
    And the module's parameter "updatetime.sendall" is "86400"
    And the module is connected to the broker
    And an app client "app" connects and sends a heartbeat every 60 seconds
    And 2 minutes pass

  @SHIP-1.6 @SHIP-2
  Scenario: Requested metrics are published again on their metric topics
    When app client "app" requests metrics "v.b.*"
    Then metric "v.b.soc" was published 1 time in the last 1 minutes
    And the module publishes metric "v.b.soc" = "80"

  @SHIP-1.6
  Scenario: An empty metric request is ignored
    When app client "app" requests metrics ""
    Then metric "v.b.soc" was not published in the last 1 minutes

  @SHIP-1.6 @SHIP-1.10
  Scenario: A config value is returned on the client's config topic; an unset one is empty
    When app client "app" requests config "server.v3/updatetime.idle"
    Then app client "app" receives config "server.v3/updatetime.idle" = ""
    When app client "app" sends command "config set server.v3 updatetime.idle 300" with id "cfg"
    And app client "app" requests config "server.v3/updatetime.idle"
    Then app client "app" receives config "server.v3/updatetime.idle" = "300"
