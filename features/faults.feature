Feature: Faults: power and network loss, reconnects
  Losing the module without DISCONNECT makes the broker deliver the will (`no`, retained). A
  network cut is followed by a reconnect after the profile's delay (virtual clock), a full pass,
  and complete retained state again.

  Background:
    Given metric "v.b.soc" is "80" at boot
    And the module is connected to the broker

  @fault @V3-SES-5 @SHIP-1.3 @SHIP-3
  Scenario: Power cut: the will is delivered and retained
    When the module loses power
    Then subscribers receive the will on the connected topic
    And a late subscriber receives the connected flag "no" as a retained message

  @fault @V3-SES-5 @SHIP-3 @SHIP-4.2
  Scenario: Network cut: will, reconnect after the profile's delay, full state again
    When the module's network is cut
    Then subscribers receive the will on the connected topic
    And the module reconnects after the profile's reconnect delay
    And a late subscriber receives the connected flag "yes" as a retained message
    And a late subscriber receives metric "v.b.soc" = "80" as a retained message

  @fault @V3-CLI-3
  Scenario: After a reconnect the module learns its live clients again
    Given an app client "app" connects and sends a heartbeat every 60 seconds
    When the module's network is cut
    Then the module reconnects after the profile's reconnect delay
    When 1 minute passes
    Then the module counts 1 peer

  @fault @V3-CLI-4 @SHIP-1.4
  Scenario: A client that vanishes without a will expires within the profile's bound
    When a client "ghost" without a will announces itself and vanishes
    Then the module stops counting client "ghost" within the profile's expiry bound
