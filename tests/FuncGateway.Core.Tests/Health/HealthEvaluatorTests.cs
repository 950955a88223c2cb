using FuncGateway.Health;

namespace FuncGateway.Core.Tests.Health;

public class HealthEvaluatorTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static HealthCheckSettings Settings(int unhealthy = 3, int healthy = 2) =>
        HealthCheckSettings.Create(new HealthCheckDefinition { UnhealthyThreshold = unhealthy, HealthyThreshold = healthy }, [])!;

    /// <summary>Feeds probe results (true = pass) in order and returns the state after each.</summary>
    private static List<HealthState> Run(HealthCheckSettings settings, HealthRecord? start, params bool[] probes)
    {
        var record = start;
        var states = new List<HealthState>();
        for (var i = 0; i < probes.Length; i++)
        {
            var result = new ProbeResult(probes[i], probes[i] ? 200 : 503, 1.5, probes[i] ? null : "status 503", Start.AddSeconds(10 * i));
            record = HealthEvaluator.Next(record, "pool", "http://a", result, settings, "prober");
            states.Add(record.State);
        }

        return states;
    }

    private static HealthRecord Record(HealthState state) => new("pool", "http://a", state, 0, 0, null, null, null, Start.AddHours(-1), Start.AddHours(-1), "prober");

    [Fact]
    public void An_unknown_instance_is_healthy_after_one_pass()
    {
        Assert.Equal([HealthState.Healthy], Run(Settings(), null, true));
    }

    [Fact]
    public void It_takes_the_unhealthy_threshold_of_failures_in_a_row_to_mark_an_instance_down()
    {
        var states = Run(Settings(unhealthy: 3), Record(HealthState.Healthy), false, false, false, false);

        Assert.Equal([HealthState.Healthy, HealthState.Healthy, HealthState.Unhealthy, HealthState.Unhealthy], states);
    }

    [Fact]
    public void It_takes_the_healthy_threshold_of_passes_in_a_row_to_bring_an_instance_back()
    {
        var states = Run(Settings(healthy: 2), Record(HealthState.Unhealthy), true, false, true, true);

        Assert.Equal([HealthState.Unhealthy, HealthState.Unhealthy, HealthState.Unhealthy, HealthState.Healthy], states);
    }

    [Fact]
    public void Flapping_does_not_flap_the_state_either_way()
    {
        var flapping = Enumerable.Range(0, 40).Select(i => i % 2 == 0).ToArray();

        Assert.All(Run(Settings(), Record(HealthState.Healthy), flapping), s => Assert.Equal(HealthState.Healthy, s));
        Assert.All(Run(Settings(), Record(HealthState.Unhealthy), flapping), s => Assert.Equal(HealthState.Unhealthy, s));

        // Even with a threshold of two, alternating results never make two failures in a row.
        Assert.All(Run(Settings(unhealthy: 2), Record(HealthState.Healthy), true, false, true, false, true, false), s => Assert.Equal(HealthState.Healthy, s));
    }

    [Fact]
    public void The_record_keeps_counts_latency_error_and_when_the_state_last_changed()
    {
        var settings = Settings(unhealthy: 2);
        var first = HealthEvaluator.Next(null, "pool", "http://a", new ProbeResult(true, 200, 3.456, null, Start), settings, "p1");
        var second = HealthEvaluator.Next(first, "pool", "http://a", new ProbeResult(false, null, 2000, "no answer within 2 s", Start.AddSeconds(10)), settings, "p1");
        var third = HealthEvaluator.Next(second, "pool", "http://a", new ProbeResult(false, 500, 4, "status 500", Start.AddSeconds(20)), settings, "p2");

        Assert.Equal((HealthState.Healthy, 1, 0, 3.46, Start), (first.State, first.ConsecutiveSuccesses, first.ConsecutiveFailures, first.LatencyMs, first.StateChangedAt));
        Assert.Equal((HealthState.Healthy, 0, 1, "no answer within 2 s", Start), (second.State, second.ConsecutiveSuccesses, second.ConsecutiveFailures, second.LastError, second.StateChangedAt));
        Assert.Equal((HealthState.Unhealthy, 2, 500, Start.AddSeconds(20), "p2"), (third.State, third.ConsecutiveFailures, third.LastStatus, third.StateChangedAt, third.ProbedBy));
    }
}
