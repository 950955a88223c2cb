using System.Net;
using System.Text.Json;
using FuncGateway.Configuration;
using FuncGateway.Core.Tests.Configuration;
using FuncGateway.IpRules;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.IpRules;

/// <summary>Which client addresses a route's compiled IP rules admit, and what the pre-match step answers.</summary>
public sealed class IpRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static GatewaySnapshot Build(params RegistryRow[] routes) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                [new RouteIpRulesCompiler()], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
            .Build(new RegistryContent([], routes), 1, Now);

    private static RouteIpRules Rules(string? allow, string? deny)
    {
        var more = new List<(string, object?)>();
        if (allow is not null)
        {
            more.Add(("AllowIps", allow));
        }

        if (deny is not null)
        {
            more.Add(("DenyIps", deny));
        }

        var snapshot = Build(Route("r", "/r", "http://10.0.0.4", [.. more]));
        Assert.Empty(snapshot.Rejected);
        return Assert.Single(snapshot.Routes).GetFeature<RouteIpRules>()!;
    }

    [Theory]
    [InlineData("10.0.0.0/8", null, "10.1.2.3", true)]
    [InlineData("10.0.0.0/8", null, "11.1.2.3", false)]
    [InlineData("10.0.0.0/8,192.0.2.7", null, "192.0.2.7", true)]
    [InlineData("10.0.0.0/8,192.0.2.7", null, "192.0.2.8", false)]
    [InlineData(null, "10.0.0.0/8", "10.1.2.3", false)]
    [InlineData(null, "10.0.0.0/8", "11.1.2.3", true)]
    [InlineData("10.0.0.0/8", "10.9.0.0/16", "10.9.1.1", false)] // deny wins over allow
    [InlineData("10.0.0.0/8", "10.9.0.0/16", "10.8.1.1", true)]
    [InlineData("10.9.0.0/16", "10.0.0.0/8", "10.9.1.1", false)] // whichever list is wider
    [InlineData("2001:db8::/32", null, "2001:db8:1::5", true)]
    [InlineData("2001:db8::/32", null, "2001:db9::5", false)]
    [InlineData(null, "2001:db8::/32", "2001:db8::1", false)]
    [InlineData("::1", null, "::1", true)]
    [InlineData("10.0.0.0/8", null, "::ffff:10.1.2.3", true)] // an IPv4 client on a dual-stack socket
    [InlineData(null, "10.0.0.0/8", "::ffff:10.1.2.3", false)]
    [InlineData("::ffff:10.0.0.0/104", null, "10.1.2.3", true)] // a mapped range is its IPv4 range
    [InlineData(null, "::ffff:192.0.2.7", "192.0.2.7", false)]
    [InlineData("::/0", null, "10.1.2.3", false)] // every IPv6 client, not the IPv4 ones
    [InlineData("0.0.0.0/0", null, "2001:db8::1", false)] // every IPv4 client, not the IPv6 ones
    [InlineData(null, "0.0.0.0/0,::/0", "2001:db8::1", false)]
    [InlineData(null, "0.0.0.0/0,::/0", "127.0.0.1", false)]
    public void Deny_wins_and_an_allow_list_refuses_everything_else(string? allow, string? deny, string client, bool admitted)
    {
        Assert.Equal(admitted, Rules(allow, deny).Refusal(IPAddress.Parse(client)) is null);
    }

    [Fact]
    public void An_unknown_client_address_is_refused_by_an_allow_list_and_passes_a_deny_list()
    {
        Assert.Equal("the client address is unknown and the route has an allow list", Rules("0.0.0.0/0", null).Refusal(null));
        Assert.Null(Rules(null, "0.0.0.0/0").Refusal(null));
    }

    [Fact]
    public void A_route_without_rules_compiles_to_nothing()
    {
        Assert.Null(Assert.Single(Build(Route("r", "/r", "http://10.0.0.4")).Routes).GetFeature<RouteIpRules>());
    }

    private static readonly GatewaySnapshot Routes = Build(
        Route("office", "/office/{**rest}", "http://10.0.0.4", ("Methods", "GET,PUT"), ("AllowIps", "192.0.2.0/24")),
        Route("public", "/public/{**rest}", "http://10.0.0.4", ("DenyIps", "198.51.100.0/24")),
        Route("open", "/open", "http://10.0.0.4"));

    private static async Task<(bool Continue, HttpContext Context)> RunAsync(string method, string path, string client, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Host = new HostString("gw.example");
        context.Response.Body = new MemoryStream();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        var step = new IpRulesStep(NullLogger<IpRulesStep>.Instance);
        var result = await step.InvokeAsync(context, new GatewayPreMatchContext(context.Request, Routes, IPAddress.Parse(client), "http"));
        return (result, context);
    }

    [Fact]
    public async Task A_refused_client_gets_403_ip_denied_as_problem_json()
    {
        var (proceed, context) = await RunAsync("GET", "/office/report", "203.0.113.9");

        Assert.False(proceed);
        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        var problem = JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray()).RootElement;
        Assert.Equal("ip_denied", problem.GetProperty("code").GetString());
        Assert.DoesNotContain("203.0.113.9", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/office/report", "192.0.2.10", true)]
    [InlineData("GET", "/public/x", "198.51.100.3", false)]
    [InlineData("GET", "/public/x", "192.0.2.10", true)]
    [InlineData("GET", "/open", "198.51.100.3", true)]
    [InlineData("GET", "/nowhere", "198.51.100.3", true)] // no route: 404 is the pipeline's answer, whoever asks
    [InlineData("DELETE", "/office/report", "203.0.113.9", true)] // no route takes DELETE: 405 is the pipeline's answer
    public async Task Only_the_route_that_takes_the_request_has_a_say(string method, string path, string client, bool proceeds)
    {
        var (proceed, context) = await RunAsync(method, path, client);

        Assert.Equal(proceeds, proceed);
        Assert.Equal(proceeds ? 200 : 403, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_cors_preflight_is_held_to_the_rules_of_the_route_it_asks_about()
    {
        // The office route does not take OPTIONS; a CORS step would answer the preflight for its PUT.
        var (refused, _) = await RunAsync("OPTIONS", "/office/report", "203.0.113.9", ("Origin", "https://app.example"), ("Access-Control-Request-Method", "PUT"));
        var (allowed, _) = await RunAsync("OPTIONS", "/office/report", "192.0.2.10", ("Origin", "https://app.example"), ("Access-Control-Request-Method", "PUT"));
        var (plainOptions, _) = await RunAsync("OPTIONS", "/office/report", "203.0.113.9");

        Assert.False(refused);
        Assert.True(allowed);
        Assert.True(plainOptions); // not a preflight: no route takes OPTIONS here, the pipeline answers 405
    }
}
