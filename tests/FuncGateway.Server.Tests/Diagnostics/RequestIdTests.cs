using System.Net;
using System.Text.RegularExpressions;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Diagnostics;

/// <summary>The request id end to end: response header, upstream header, problem <c>traceId</c>, log scope, span.</summary>
[Collection("Azurite")]
public sealed partial class RequestIdTests(AzuriteFixture azurite)
{
    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TraceId();

    [Fact]
    public async Task Every_response_carries_a_generated_id_that_the_upstream_problems_logs_and_spans_share()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo, logging: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("dead", "/dead", $"http://127.0.0.1:{LoopbackPorts.GetRefusing()}", ("Retries", """{"maxRetries":0}"""));
        await gateway.ReloadAsync();

        // Proxied: a client's own X-Request-Id is not kept (not configured), the upstream gets the gateway's.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/echo/a");
        request.Headers.Add("X-Request-Id", "client-chosen-id");
        using var proxied = await gateway.Client.SendAsync(request);
        var id = proxied.Headers.GetValues("X-Request-Id").Single();
        Assert.Matches(TraceId(), id);
        var echo = await Echo.ReadAsync(proxied);
        Assert.Equal([id], echo.Header("X-Request-Id"));

        // The request's span has that trace id.
        var span = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && s.TraceId.ToHexString() == id)).Single();
        Assert.Equal("echo", TelemetryCapture.Tag(span, "funcgateway.route.id"));

        // A gateway problem: the same id in the header and in traceId; its log lines carry it as RequestId.
        using var notFound = await gateway.Client.GetAsync("/nowhere");
        var problem = await Problem.AssertAsync(notFound, HttpStatusCode.NotFound, "route_not_found");
        var problemId = notFound.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(problemId, problem.GetProperty("traceId").GetString());
        Assert.NotEqual(id, problemId);

        using var unreachable = await gateway.Client.GetAsync("/dead");
        var bad = await Problem.AssertAsync(unreachable, HttpStatusCode.BadGateway, "upstream_unreachable");
        var badId = unreachable.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(badId, bad.GetProperty("traceId").GetString());
        var logged = capture.Logs.Records.Where(r => r.EventId.Id == 2000).ToList();
        Assert.Contains(logged, r => r.Scope.Any(kv => kv.Key == "RequestId" && (string?)kv.Value == badId));
    }

    [Fact]
    public async Task A_valid_client_id_is_kept_only_where_configured_and_an_invalid_one_is_replaced()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:AcceptClientRequestId"] = "true",
        });
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var kept = new HttpRequestMessage(HttpMethod.Get, "/echo/a");
        kept.Headers.Add("X-Request-Id", "order-7f3a:retry.2");
        using var response = await gateway.Client.SendAsync(kept);
        Assert.Equal("order-7f3a:retry.2", response.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal(["order-7f3a:retry.2"], (await Echo.ReadAsync(response)).Header("X-Request-Id"));

        using var problem = new HttpRequestMessage(HttpMethod.Get, "/nowhere");
        problem.Headers.Add("X-Request-Id", "order-7f3a");
        using var notFound = await gateway.Client.SendAsync(problem);
        Assert.Equal("order-7f3a", (await Problem.AssertAsync(notFound, HttpStatusCode.NotFound, "route_not_found")).GetProperty("traceId").GetString());

        // Too long, or characters that could break a log line or a header: replaced by a generated id.
        foreach (var invalid in new[] { new string('a', 129), "has space", "quote\"d", "semi;colon" })
        {
            using var replaced = new HttpRequestMessage(HttpMethod.Get, "/echo/b");
            replaced.Headers.TryAddWithoutValidation("X-Request-Id", invalid);
            using var answer = await gateway.Client.SendAsync(replaced);
            var id = answer.Headers.GetValues("X-Request-Id").Single();
            Assert.Matches(TraceId(), id);
            Assert.Equal([id], (await Echo.ReadAsync(answer)).Header("X-Request-Id"));
        }
    }
}
