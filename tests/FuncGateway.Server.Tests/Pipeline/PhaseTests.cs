using FuncGateway.Model;
using System.Net;
using System.Text;
using FuncGateway.Pipeline;
using FuncGateway.Routing;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Server.Tests.Pipeline;

/// <summary>
/// The request phases with test-only steps and transforms: a pre-match step answers a CORS preflight the route table
/// would refuse with 405, completion steps see the finished response and cannot change it, route transforms run in
/// provider order around the built-in ones, and a response body is buffered only where a transform asks, up to the cap.
/// </summary>
[Collection("Azurite")]
public sealed class PhaseTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int BufferCap = 2048;

    private readonly RecordingCompletion _completion = new();
    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo-phases");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Forwarding:MaxBufferedResponseBytes"] = BufferCap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, services: services =>
        {
            services.AddSingleton<IGatewayPreMatchStep, PreflightStep>();
            services.AddSingleton<IGatewayCompletion, ThrowingCompletion>();
            services.AddSingleton<IGatewayCompletion>(_completion);
            services.AddSingleton<IRouteTransformProvider, OrderedTransformProvider>();
        });
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertRouteAsync("cors", "/cors/{**rest}", "echo", ("Methods", "GET,PUT"));
        await _gateway.UpsertRouteAsync("ordered", "/ordered/{**rest}", "echo", ("StripPrefix", "/ordered"));
        await _gateway.UpsertRouteAsync("buffered", "/buffered/{**rest}", "echo");
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task A_pre_match_step_answers_a_preflight_the_route_table_would_refuse_with_405()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/cors/items");
        preflight.Headers.Add("Origin", "https://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "PUT");
        using var answered = await _gateway.Client.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answered.StatusCode);
        Assert.Equal("cors", answered.Headers.GetValues("X-Test-Preflight-Route").Single());
        Assert.Equal(0, _echo.RequestCount);

        // Not a preflight (no announced method), or one for a method the route does not take: still 405.
        using var plain = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/cors/items"));
        await Problem.AssertAsync(plain, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        using var wrongMethod = new HttpRequestMessage(HttpMethod.Options, "/cors/items");
        wrongMethod.Headers.Add("Origin", "https://app.example");
        wrongMethod.Headers.Add("Access-Control-Request-Method", "DELETE");
        using var refused = await _gateway.Client.SendAsync(wrongMethod);
        await Problem.AssertAsync(refused, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public async Task Completion_steps_run_after_the_response_and_a_failing_one_changes_nothing()
    {
        using var response = await _gateway.Client.GetAsync("/cors/done");
        var echo = await Echo.ReadAsync(response);
        Assert.Equal("/cors/done", echo.Path);

        // The first completion step threw; the response was already whole and the next step still ran.
        var completed = await _completion.NextAsync("/cors/done");
        Assert.Equal(StatusCodes.Status200OK, completed.Status);
        Assert.Equal("cors", completed.RouteId);
        Assert.True(completed.HasStarted);

        using var notFound = await _gateway.Client.GetAsync("/nowhere");
        await Problem.AssertAsync(notFound, HttpStatusCode.NotFound, "route_not_found");
        var unmatched = await _completion.NextAsync("/nowhere");
        Assert.Equal(StatusCodes.Status404NotFound, unmatched.Status);
        Assert.Null(unmatched.RouteId);
    }

    [Fact]
    public async Task Route_transforms_run_in_provider_order_between_the_forwarding_and_identity_transforms()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ordered/a?x=1&code=fn");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        // The strip-prefix rewrite ran before the test transform, which saw "/a" and appended to it.
        Assert.Equal("/a/seen", echo.Path);
        Assert.Equal("first, second", string.Join(", ", echo.Header("X-Test-Order")));

        // The forwarding transforms ran before (the client's X-Forwarded-For is gone, the gateway's is there, and the
        // test transform saw it); the identity transform ran after (the Functions key left the query, the policy header is set).
        Assert.Equal("127.0.0.1", echo.Header("X-Forwarded-For").Single());
        Assert.Equal("127.0.0.1", echo.Header("X-Test-Saw-Forwarded-For").Single());
        Assert.Equal("?x=1", echo.Query);
        Assert.Equal("anonymous", echo.Header("X-Gateway-Auth-Policy").Single());

        // Response transforms saw the upstream's status and headers before the body, and did not buffer it.
        Assert.Equal("200 streamed", response.Headers.GetValues("X-Test-Response").Single());
    }

    [Fact]
    public async Task A_body_is_buffered_only_where_a_transform_needs_it_and_only_up_to_the_cap()
    {
        using var small = await _gateway.Client.GetAsync("/buffered/small");
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        var body = await small.Content.ReadAsStringAsync();
        Assert.StartsWith("buffered:", body, StringComparison.Ordinal);
        var upstreamLength = int.Parse(body["buffered:".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(upstreamLength, 1, BufferCap);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), small.Content.Headers.ContentLength);

        // The echo repeats the request's headers: a big one makes the upstream's body larger than the cap.
        using var big = new HttpRequestMessage(HttpMethod.Get, "/buffered/big");
        big.Headers.Add("X-Padding", new string('p', BufferCap));
        using var tooLarge = await _gateway.Client.SendAsync(big);
        await Problem.AssertAsync(tooLarge, HttpStatusCode.BadGateway, "response_too_large");

        // A route whose transforms do not need the body streams it, whatever its size.
        using var streamed = new HttpRequestMessage(HttpMethod.Get, "/ordered/big");
        streamed.Headers.Add("X-Padding", new string('p', BufferCap));
        using var passed = await _gateway.Client.SendAsync(streamed);
        Assert.Equal(new string('p', BufferCap), (await Echo.ReadAsync(passed)).Header("X-Padding").Single());
    }

    /// <summary>Answers a CORS preflight for a route that takes the announced method (test-only; the CORS capability comes later).</summary>
    private sealed class PreflightStep : IGatewayPreMatchStep
    {
        public int Order => 0;

        public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayPreMatchContext match)
        {
            var request = context.Request;
            if (!HttpMethods.IsOptions(request.Method) || !request.Headers.ContainsKey("Origin")
                || request.Headers["Access-Control-Request-Method"] is not [{ Length: > 0 } method]
                || match.Match.Outcome != RouteMatchOutcome.MethodNotAllowed || match.FindRoute(method) is not { } route)
            {
                return true;
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
            context.Response.Headers["X-Test-Preflight-Route"] = route.Definition.Id;
            await context.Response.CompleteAsync();
            return false;
        }
    }

    private sealed class ThrowingCompletion : IGatewayCompletion
    {
        public ValueTask OnCompletedAsync(GatewayCompletionContext context) => throw new InvalidOperationException("completion failed on purpose");
    }

    private sealed record Completed(string Path, int Status, string? RouteId, bool HasStarted);

    private sealed class RecordingCompletion : IGatewayCompletion
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<Completed>> _seen = new();

        public ValueTask OnCompletedAsync(GatewayCompletionContext context)
        {
            var http = context.HttpContext;
            var path = http.Request.Path.Value ?? "";
            Source(path).TrySetResult(new Completed(path, http.Response.StatusCode, context.Feature?.Route.Definition.Id, http.Response.HasStarted));
            return ValueTask.CompletedTask;
        }

        public Task<Completed> NextAsync(string path) => Source(path).Task.WaitAsync(TimeSpan.FromSeconds(10));

        private TaskCompletionSource<Completed> Source(string path) =>
            _seen.GetOrAdd(path, static _ => new TaskCompletionSource<Completed>(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>Between the forwarding transforms and the identity transform; two request transforms, two response transforms.</summary>
    private sealed class OrderedTransformProvider : IRouteTransformProvider
    {
        public int Order => 500;

        public void Apply(RouteTransformBuilderContext context)
        {
            switch (context.Route.Id)
            {
                case "ordered":
                    context.RequestTransforms.Add(new AppendHeader("first"));
                    context.RequestTransforms.Add(new AppendHeader("second", changePath: true));
                    context.ResponseTransforms.Add(new StatusHeader());
                    break;
                case "buffered":
                    context.ResponseTransforms.Add(new ReplaceBody());
                    break;
            }
        }
    }

    private sealed class AppendHeader(string value, bool changePath = false) : GatewayRequestTransform
    {
        public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
        {
            context.ProxyRequest.Headers.TryAddWithoutValidation("X-Test-Order", value);
            if (changePath)
            {
                context.Path = context.Path.Add("/seen");
                if (context.ProxyRequest.Headers.TryGetValues("X-Forwarded-For", out var forwarded))
                {
                    context.ProxyRequest.Headers.TryAddWithoutValidation("X-Test-Saw-Forwarded-For", forwarded);
                }
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class StatusHeader : GatewayResponseTransform
    {
        public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
        {
            context.HttpContext.Response.Headers["X-Test-Response"] =
                $"{(int)context.ProxyResponse!.StatusCode} {(context.IsBodyBuffered ? "buffered" : "streamed")}";
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ReplaceBody : GatewayResponseTransform
    {
        public override bool NeedsBody => true;

        public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
        {
            context.Body = Encoding.UTF8.GetBytes("buffered:" + context.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return ValueTask.CompletedTask;
        }
    }
}
