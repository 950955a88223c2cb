using System.Net;
using System.Text.Json;
using FuncGateway.Testing;

namespace FuncGateway.Functions.EndToEnd.Tests;

/// <summary>
/// What README promises on both hosts, checked on the Functions app's path where tests/FuncGateway.Server.Tests checks
/// it on the server: HEAD on a GET route, a body up to the gateway's limit, a trailing slash, and request ids on proxied
/// answers and problems.
/// </summary>
[Collection(FunctionsAppCollectionDefinition.Name)]
public sealed class ServerParityTests(FunctionsAppFixture app)
{
    [Fact]
    public async Task Head_on_a_route_that_lists_only_get_and_others_reaches_the_upstream()
    {
        // The orders route lists GET, PUT, DELETE: HEAD comes with GET (docs/request-hygiene.md "HEAD comes with GET"),
        // so it is answered by the upstream, not refused with 405.
        using var request = new HttpRequestMessage(HttpMethod.Head, "/shop/orders/907");
        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["echo"], response.Headers.GetValues("X-Echo-Instance"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Null((await app.InvocationForAsync("/shop/orders/907")).Failure);
    }

    [Fact]
    public async Task A_body_over_kestrels_default_limit_and_under_the_gateways_reaches_the_upstream()
    {
        // The worker's Kestrel keeps ASP.NET Core's default body limit (30,000,000 bytes); the server lifts its own.
        // The gateway's limit (FuncGateway:Forwarding:MaxRequestBodySizeBytes, 100 MB by default) must hold on both
        // hosts, so the core sets it on each request: without that the worker would refuse this body.
        app.ProgrammableHandler.Set(async context =>
        {
            long total = 0;
            var buffer = new byte[81920];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            await context.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        const int Length = 40_000_000;

        using var content = new ByteArrayContent(new byte[Length]);
        using var response = await app.Client.PostAsync("/stream/large-body", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Length.ToString(System.Globalization.CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_trailing_slash_matches_the_route_as_on_the_server()
    {
        using var response = await app.Client.GetAsync("/shop/orders/8/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v2/orders/8", (await response.ReadEchoAsync()).Path);
    }

    [Fact]
    public async Task Every_answer_carries_the_request_id_the_upstream_and_the_problem_carry()
    {
        using var proxied = await app.Client.GetAsync("/api/request-id");
        var sent = Assert.Single(proxied.Headers.GetValues("X-Request-Id"));
        Assert.Equal([sent], (await proxied.ReadEchoAsync()).Headers["x-request-id"]);

        using var problem = await app.Client.GetAsync("/nowhere/request-id");
        Assert.Equal(HttpStatusCode.NotFound, problem.StatusCode);
        var traceId = JsonDocument.Parse(await problem.Content.ReadAsStringAsync()).RootElement.GetProperty("traceId").GetString();
        Assert.Equal([traceId], problem.Headers.GetValues("X-Request-Id"));
        Assert.NotEqual(sent, traceId);
    }
}
