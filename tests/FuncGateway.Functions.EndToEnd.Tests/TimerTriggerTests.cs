using System.Net;
using Azure.Data.Tables;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FuncGateway.Functions.EndToEnd.Tests;

/// <summary>
/// The timer functions invoked as the host's timer trigger invokes them when their schedule fires: an
/// <c>InvocationRequest</c> with a <c>TimerInfo</c> payload. The schedule itself (and its singleton lock across
/// instances) is the host's and is not run here; each test fires the timer once, on demand.
/// </summary>
[Collection(FunctionsAppCollectionDefinition.Name)]
public sealed class TimerTriggerTests(FunctionsAppFixture app)
{
    [Fact]
    public async Task A_health_probe_invocation_writes_the_health_table_and_routing_follows_it()
    {
        var live = app.Echo.BaseAddress.ToString().TrimEnd('/');
        var dead = $"http://127.0.0.1:{app.DeadPort}";

        var response = await app.Host.InvokeTimerAsync("HealthProbe");

        AssertSucceeded(response);
        var rows = await app.Health.QueryAsync<TableEntity>(e => e.PartitionKey == "probed").ToListAsync();
        var byUrl = rows.ToDictionary(r => r.GetString("Url"));
        Assert.Equal("Healthy", byUrl[live].GetString("State"));
        Assert.Equal(200, byUrl[live].GetInt32("LastStatus"));
        Assert.Equal("Unhealthy", byUrl[dead].GetString("State"));
        Assert.False(string.IsNullOrEmpty(byUrl[dead].GetString("LastError")));

        // The dead instance is out of rotation: every request of a round-robin pool lands on the live one.
        for (var i = 0; i < 4; i++)
        {
            using var routed = await app.Client.GetAsync("/probed/x");
            Assert.True(routed.StatusCode == HttpStatusCode.OK, $"{(int)routed.StatusCode}: {await routed.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task A_rate_limit_maintenance_invocation_deletes_expired_counter_rows()
    {
        // A one-second window: its counter row expires a second after it is written (retention is 0 here).
        using (var counted = await app.Client.GetAsync("/per-second"))
        {
            Assert.Equal(HttpStatusCode.OK, counted.StatusCode);
        }

        var rows = await CountersAsync("second");
        Assert.NotEmpty(rows);
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var response = await app.Host.InvokeTimerAsync("RateLimitMaintenance");

        AssertSucceeded(response);
        Assert.Empty(await CountersAsync("second"));
    }

    private async Task<List<TableEntity>> CountersAsync(string policy) =>
        (await app.RateLimits.QueryAsync<TableEntity>().ToListAsync()).Where(r => r.GetString("Policy") == policy).ToList();

    private void AssertSucceeded(InvocationResponse response) =>
        Assert.True(response.Result.Status == StatusResult.Types.Status.Success,
            $"{response.Result.Status}: {response.Result.Exception?.Message}{app.Host.DescribeWorker()}");
}
