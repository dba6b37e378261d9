@security @needs-mosquitto
Feature: Security on a real Mosquitto: TLS, passwords, anonymous refusal, the per-user ACL
  Each scenario starts a Mosquitto of its own with a TLS listener (a freshly generated CA), a
  password listener with users alice and bob and the ACL `ovms/%u/#`. A subscription the ACL
  denies is still acknowledged, so "cannot read" is asserted as silence for one second, next to
  a positive control on the same broker.

  Background:
    Given a private Mosquitto broker with TLS, password users and the per-user ACL

  @V3-SEC-1 @V3-SES-1 @SHIP-3
  Scenario: The module connects over TLS and verifies the broker's certificate
    When the private module connects over TLS trusting the broker's CA
    Then the private module is connected

  @V3-SEC-1 @SHIP-3 @protects-tls-verify
  Scenario: A broker certificate from another CA is refused with a clear message, and retried
    When the private module connects over TLS trusting another CA
    Then the private module's connection fails with a message containing "TLS handshake"
    And the private module's connection fails with a message containing "certificate"
    And the private module tries again after the profile's delay

  @V3-SEC-3 @SHIP-3
  Scenario: Username and password are all the module needs
    When the private module connects to the password listener as "alice" with password "alice-secret"
    Then the private module is connected

  @V3-SEC-3 @SHIP-3 @protects-password
  Scenario: A wrong password is refused, and retried after the profile's delay
    When the private module connects to the password listener as "alice" with password "not-her-password"
    Then the private module's connection fails with a message containing "refused"
    And the private module tries again after the profile's delay

  @V3-SEC-3 @SHIP-3 @protects-anonymous
  Scenario: Anonymous connections are refused on the password listener
    When the private module connects to the password listener without credentials
    Then the private module's connection fails with a message containing "refused"
    And an anonymous client is refused by the password listener

  @V3-SEC-2
  Scenario: Another user neither reads nor writes under the module's prefix
    Given metric "v.b.soc" is "80" at boot
    When the private module connects to the password listener as "alice" with password "alice-secret"
    Then the private module is connected
    And user "alice" reads the private module's retained metric "v.b.soc" = "80"
    And user "bob" receives nothing under the private module's prefix within 1 second
    When user "bob" publishes "1" on the private module's client topic, retained and live
    Then the private module receives nothing within 1 second
