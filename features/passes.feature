Feature: What gets sent: metric filters, the immediate and the priority paths
  `metrics.include` / `metrics.exclude` filter every metric publish (3.3.004+, and the draft
  profile adopts them). From 3.3.006 a changed metric matching the immediate filter goes out at
  once with `updatetime.immediately=yes`, and the priority pass sends modified position metrics
  every `updatetime.on` seconds while the vehicle is awake with `updatetime.priority=yes`.

  @SHIP-4.4 @SHIP-4 @V3-MET-1
  Scenario: An excluded metric is never published, the others are
    Given metric "v.b.soc" is "80" at boot
    And metric "v.b.range.ideal" is "300" at boot
    And the module's parameter "metrics.exclude" is "v.b.soc"
    And the module is connected to the broker
    When metric "v.b.soc" is set to "75"
    And 11 minutes pass
    Then metric "v.b.soc" was never published
    And the module publishes metric "v.b.range.ideal" = "300"

  # The include list must name s.v3.* too: in the shipped firmware the connected flag `yes` is
  # itself a metric publish of the full pass and is filtered like any other (§4.4).
  @SHIP-4.4
  Scenario: With an include list only matching metrics are published
    Given metric "v.b.soc" is "80" at boot
    And metric "v.p.speed" is "12" at boot
    And the module's parameter "metrics.include" is "v.b.*, s.v3.*"
    And the module is connected to the broker
    Then the module publishes metric "v.b.soc" = "80"
    And metric "v.p.speed" was never published

  @SHIP-4.3 @profile:fw-3.3.006
  Scenario: With updatetime.immediately a changed metric goes out at once
    Given metric "v.b.soc" is "80" at boot
    And the module's parameter "updatetime.immediately" is "yes"
    And the module's parameter "metrics.include.immediately" is "v.b.soc"
    And the module's parameter "updatetime.sendall" is "86400"
    And the module is connected to the broker
    And 1 minute passes
    When metric "v.b.soc" is set to "75"
    And 1 second passes
    Then metric "v.b.soc" was published 1 time in the last 1 minutes
    And the module publishes metric "v.b.soc" = "75"

  @SHIP-4.3 @profile:fw-3.3.006
  Scenario: The priority pass sends a changed speed every updatetime.on seconds while awake
    Given metric "v.e.awake" is "yes" at boot
    And metric "v.p.speed" is "10" at boot
    And the module's parameter "updatetime.priority" is "yes"
    And the module's parameter "updatetime.sendall" is "86400"
    And the module is connected to the broker
    And 1 minute passes
    When metric "v.p.speed" is set to "42"
    And 6 seconds pass
    Then metric "v.p.speed" was published 1 time in the last 1 minutes
    And the module publishes metric "v.p.speed" = "42"
