using System.Net;
using System.Security.Claims;
using FuncGateway.Forwarding;
using FuncGateway.Model;
using FuncGateway.Transforms;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Transforms;

/// <summary>
/// Each kind of transform, run by the gateway's own transformer after YARP's base copy, on a request or response
/// built in memory: what the upstream request and the client response end up with.
/// </summary>
public sealed class TransformBehaviourTests
{
    private static CompiledRoute Compile(string transforms, string path = "/orders/{id}")
    {
        var snapshot = TransformFormatTests.Build(Route("r", path, "http://10.0.0.1", ("Transforms", transforms)));
        Assert.Empty(snapshot.Rejected);
        return Assert.Single(snapshot.Routes);
    }

    private static DefaultHttpContext Client(string method = "GET", string path = "/orders/7", string query = "", params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("gateway.example");
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return context;
    }

    private static async Task<HttpRequestMessage> ForwardAsync(CompiledRoute route, HttpContext client, GatewayIdentity? identity = null, bool tunnel = false)
    {
        var feature = new GatewayRequestFeature(route, new RouteValueDictionary { ["id"] = "7" }) { Identity = identity, IsTunnel = tunnel };
        // The forwarder gives the request its content before the transformer copies headers onto it.
        var proxy = new HttpRequestMessage
        {
            Method = new HttpMethod(client.Request.Method),
            Content = client.Request.ContentLength > 0 ? new StreamContent(client.Request.Body) : null,
        };
        await new GatewayHttpTransformer(feature, 1024, NullLogger.Instance).TransformRequestAsync(client, proxy, "http://10.0.0.1:8080", CancellationToken.None);
        return proxy;
    }

    private static async Task<HttpResponse> RespondAsync(CompiledRoute route, HttpResponseMessage upstream, HttpContext? client = null)
    {
        client ??= Client();
        var feature = new GatewayRequestFeature(route, []);
        await new GatewayHttpTransformer(feature, 1024, NullLogger.Instance).TransformResponseAsync(client, upstream, CancellationToken.None);
        return client.Response;
    }

    private static string[] Values(HttpRequestMessage request, string name) =>
        request.Headers.NonValidated.TryGetValues(name, out var values) ? [.. values]
        : request.Content is not null && request.Content.Headers.NonValidated.TryGetValues(name, out values) ? [.. values]
        : [];

    [Fact]
    public async Task Set_replaces_every_value_append_adds_and_set_if_missing_keeps_what_is_there()
    {
        var route = Compile("""
            [{"RequestHeader":"X-Api-Version","Set":"2"},
             {"RequestHeader":"X-Tags","Append":"gateway"},
             {"RequestHeader":"X-Source","SetIfMissing":"gateway"},
             {"RequestHeader":"X-Absent","SetIfMissing":"default"}]
            """);
        var proxy = await ForwardAsync(route, Client(headers: [("X-Api-Version", "1"), ("X-Api-Version", "3"), ("X-Tags", "client"), ("X-Source", "mobile")]));

        Assert.Equal(["2"], Values(proxy, "X-Api-Version"));
        Assert.Equal(["client", "gateway"], Values(proxy, "X-Tags"));
        Assert.Equal(["mobile"], Values(proxy, "X-Source"));
        Assert.Equal(["default"], Values(proxy, "X-Absent"));
    }

    [Fact]
    public async Task Remove_and_rename_work_on_the_clients_headers_and_rename_replaces_the_target()
    {
        var route = Compile("""[{"RequestHeaderRemove":"X-Debug"},{"RequestHeaderRename":"X-Old-Token","To":"X-Token"},{"RequestHeaderRename":"X-Missing","To":"X-Kept"}]""");
        var proxy = await ForwardAsync(route, Client(headers: [("X-Debug", "1"), ("X-Old-Token", "a"), ("X-Token", "client-set"), ("X-Kept", "k")]));

        Assert.Empty(Values(proxy, "X-Debug"));
        Assert.Empty(Values(proxy, "X-Old-Token"));
        Assert.Equal(["a"], Values(proxy, "X-Token"));
        Assert.Equal(["k"], Values(proxy, "X-Kept"));
    }

    [Fact]
    public async Task Templates_take_the_request_id_timestamp_route_caller_header_query_and_path_parameter()
    {
        var route = Compile("""
            [{"RequestHeader":"X-Request-Id","Set":"{RequestId}"},
             {"RequestHeader":"X-Stamp","Set":"at {Timestamp}"},
             {"RequestHeader":"X-Route","Set":"{RouteId}/{Route:id}"},
             {"RequestHeader":"X-Caller","Set":"{UserId}|{ConsumerId}|{Claim:tid}"},
             {"RequestHeader":"X-From-Header","Set":"{Header:X-Correlation}"},
             {"RequestHeader":"X-From-Query","Set":"{{{Query:lang}}}"},
             {"RequestHeader":"X-Verb","Set":"{method}"}]
            """);
        var identity = new GatewayIdentity("corp", "alice", "acme", null, new ClaimsPrincipal(new ClaimsIdentity([new Claim("tid", "t-1")], "test")));
        var client = Client(query: "?lang=en&lang=fr", headers: [("X-Correlation", "c-42")]);
        client.TraceIdentifier = "trace-1";
        var proxy = await ForwardAsync(route, client, identity);

        Assert.Equal(["trace-1"], Values(proxy, "X-Request-Id"));
        // The FakeTimeProvider of the snapshot starts at 2000-01-01T00:00:00Z.
        Assert.Equal(["at 2000-01-01T00:00:00.000Z"], Values(proxy, "X-Stamp"));
        Assert.Equal(["r/7"], Values(proxy, "X-Route"));
        Assert.Equal(["alice|acme|t-1"], Values(proxy, "X-Caller"));
        Assert.Equal(["c-42"], Values(proxy, "X-From-Header"));
        Assert.Equal(["{en,fr}"], Values(proxy, "X-From-Query"));
        Assert.Equal(["GET"], Values(proxy, "X-Verb"));
    }

    [Fact]
    public async Task A_value_without_a_value_sets_nothing_and_set_then_removes_the_clients_own_header()
    {
        var route = Compile("""[{"RequestHeader":"X-Tenant","Set":"{Claim:tid}"},{"RequestHeader":"X-Tags","Append":"{Header:X-None}"}]""");
        var proxy = await ForwardAsync(route, Client(headers: [("X-Tenant", "spoofed"), ("X-Tags", "a")]));

        Assert.Empty(Values(proxy, "X-Tenant"));
        Assert.Equal(["a"], Values(proxy, "X-Tags"));
    }

    [Theory]
    [InlineData("a\r\nX-Injected: 1", "a%0D%0AX-Injected: 1")]
    [InlineData("caf\u00e9", "caf%C3%A9")]
    [InlineData("  padded\t", "padded")]
    [InlineData("nul\0", "nul%00")]
    [InlineData("emoji \U0001F600", "emoji %F0%9F%98%80")]
    public async Task Client_input_can_never_put_a_line_break_or_invalid_byte_into_a_header(string query, string expected)
    {
        var route = Compile("""[{"RequestHeader":"X-Search","Set":"{Query:q}"}]""");
        var proxy = await ForwardAsync(route, Client(query: QueryString.Create("q", query).Value!));
        Assert.Equal([expected], Values(proxy, "X-Search"));
        Assert.Empty(Values(proxy, "X-Injected"));
    }

    [Fact]
    public async Task Query_parameters_are_set_removed_and_renamed_and_the_rest_passes_byte_for_byte()
    {
        var route = Compile("""
            [{"QueryParameter":"api-version","Set":"2024-01-01"},
             {"QueryParameterRemove":"debug"},
             {"QueryParameterRename":"q","To":"search"},
             {"QueryParameter":"who","Set":"{Header:X-Who}"},
             {"QueryParameter":"gone","Set":"{Header:X-Absent}"}]
            """);
        var proxy = await ForwardAsync(route, Client(query: "?a=%20x&q=caf%C3%A9&API-Version=1&debug&search=old&b=1&gone=1", headers: [("X-Who", "a&b=c")]));

        Assert.Equal("?a=%20x&search=caf%C3%A9&b=1&api-version=2024-01-01&who=a%26b%3Dc", proxy.RequestUri!.Query);
    }

    [Fact]
    public async Task The_method_changes_only_for_the_named_method_and_never_on_a_tunnel()
    {
        var route = Compile("""[{"HttpMethodChange":"put","Set":"POST"},{"RequestHeader":"X-HTTP-Method-Override","Set":"{Method}"}]""");

        var put = await ForwardAsync(route, Client("PUT"));
        Assert.Equal(HttpMethod.Post, put.Method);
        Assert.Equal(["PUT"], Values(put, "X-HTTP-Method-Override"));

        var get = await ForwardAsync(route, Client("GET"));
        Assert.Equal(HttpMethod.Get, get.Method);

        var tunnel = await ForwardAsync(route, Client("PUT"), tunnel: true);
        Assert.Equal(HttpMethod.Put, tunnel.Method);
    }

    [Fact]
    public async Task A_content_header_is_set_on_the_content_and_skipped_without_one()
    {
        var route = Compile("""[{"RequestHeader":"Content-Type","Set":"application/xml"},{"RequestHeader":"Host","Set":"legacy.internal"}]""");
        var withBody = Client("POST", headers: [("Content-Type", "text/plain")]);
        withBody.Request.ContentLength = 2;
        withBody.Request.Body = new MemoryStream("ok"u8.ToArray());
        var proxy = await ForwardAsync(route, withBody);
        Assert.Equal(["application/xml"], Values(proxy, "Content-Type"));
        Assert.Equal("legacy.internal", proxy.Headers.Host);

        var without = await ForwardAsync(route, Client("GET"));
        Assert.Empty(Values(without, "Content-Type"));
    }

    [Fact]
    public async Task Response_headers_are_set_and_removed_on_the_upstreams_response()
    {
        var route = Compile("""
            [{"ResponseHeaderRemove":"Server"},{"ResponseHeaderRemove":"X-Powered-By"},
             {"ResponseHeader":"X-Frame-Options","Set":"DENY"},
             {"ResponseHeader":"X-Route","Set":"{RouteId}"},
             {"ResponseHeader":"Cache-Control","SetIfMissing":"no-store"},
             {"ResponseHeader":"Vary","Append":"Accept"}]
            """);
        using var upstream = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("x") };
        upstream.Headers.TryAddWithoutValidation("Server", "Apache/2.4");
        upstream.Headers.TryAddWithoutValidation("X-Powered-By", "PHP/5.6");
        upstream.Headers.TryAddWithoutValidation("X-Frame-Options", "ALLOW");
        upstream.Headers.TryAddWithoutValidation("Cache-Control", "max-age=60");
        upstream.Headers.TryAddWithoutValidation("Vary", "Origin");

        var response = await RespondAsync(route, upstream);
        Assert.False(response.Headers.ContainsKey("Server"));
        Assert.False(response.Headers.ContainsKey("X-Powered-By"));
        Assert.Equal("DENY", response.Headers["X-Frame-Options"]);
        Assert.Equal("r", response.Headers["X-Route"]);
        Assert.Equal("max-age=60", response.Headers.CacheControl);
        Assert.Equal("Origin,Accept", string.Join(",", response.Headers.Vary.ToArray()));
    }

    [Theory]
    [InlineData(null, "application/json; charset=utf-8")]
    [InlineData("text/plain; charset=us-ascii", "application/json; charset=utf-8")]
    [InlineData("TEXT/PLAIN", "application/json; charset=utf-8")]
    [InlineData("text/html", "text/html")]
    public async Task Content_type_is_fixed_only_when_the_upstream_sent_a_listed_type_or_none(string? upstreamType, string expected)
    {
        var route = Compile("""[{"ResponseContentType":"application/json; charset=utf-8","IfMediaType":"text/plain, missing"}]""");
        using var upstream = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent("{}"u8.ToArray()) };
        if (upstreamType is not null)
        {
            upstream.Content.Headers.TryAddWithoutValidation("Content-Type", upstreamType);
        }

        Assert.Equal(expected, (await RespondAsync(route, upstream)).ContentType);
    }

    [Fact]
    public async Task Content_type_is_left_alone_on_a_response_without_a_body()
    {
        var route = Compile("""[{"ResponseContentType":"application/json"}]""");
        using var upstream = new HttpResponseMessage(HttpStatusCode.NoContent) { Content = new ByteArrayContent([]) };
        Assert.Null((await RespondAsync(route, upstream)).ContentType);
    }

    [Fact]
    public async Task Statuses_are_mapped_once_each_with_the_new_standard_reason_phrase()
    {
        var route = Compile("""[{"ResponseStatus":"404","Set":"410"},{"ResponseStatus":"410","Set":"500"}]""");
        using var notFound = new HttpResponseMessage(HttpStatusCode.NotFound) { ReasonPhrase = "Nope", Content = new StringContent("gone") };
        var client = Client();
        client.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = "Nope";
        var response = await RespondAsync(route, notFound, client);
        Assert.Equal(410, response.StatusCode);
        Assert.Null(client.Features.Get<IHttpResponseFeature>()!.ReasonPhrase);

        using var ok = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("fine") };
        Assert.Equal(200, (await RespondAsync(route, ok)).StatusCode);
    }

    [Fact]
    public void Header_values_from_client_input_are_sanitized_and_literal_values_checked()
    {
        Assert.Equal("plain value", HeaderValueText.Sanitize("plain value"));
        Assert.Equal("x%0Ay", HeaderValueText.Sanitize("x\ny"));
        Assert.Equal("%EF%BF%BD", HeaderValueText.Sanitize("\ud800"));
        Assert.True(HeaderValueText.IsValid("a b\tc{}"));
        Assert.False(HeaderValueText.IsValid("a\rb"));
        Assert.False(HeaderValueText.IsValid("\u00e9"));
    }

    [Theory]
    [InlineData("?a=1&b=2", "b", "c", "?a=1&c=2")]
    [InlineData("?B=1&b=2&c=3", "b", "x", "?x=1&x=2&c=3")]
    [InlineData("?a=1&x=0&b=2", "b", "x", "?a=1&x=2")]
    [InlineData("?a=1", "b", "x", "?a=1")]
    [InlineData("?%62=1", "b", "x y", "?x%20y=1")]
    [InlineData("?b", "b", "c", "?c")]
    public void Renaming_a_query_parameter_keeps_values_and_the_rest_of_the_query(string query, string from, string to, string expected)
    {
        Assert.Equal(expected, QueryStringEditor.Rename(new QueryString(query), from, to).Value);
    }

    [Theory]
    [InlineData("?x=1;code=a", "?x=1%3Bcode=a")]
    [InlineData("?x;Code=a&y=2", "?x%3BCode=a&y=2")]
    [InlineData("?a=1&x=1;b=2;code%5B%5D=3", "?a=1&x=1%3Bb=2%3Bcode%5B%5D=3")]
    [InlineData("?x=1;codex=a", "?x=1;codex=a")]
    [InlineData("?code=1;x=2&y=3", "?y=3")]
    public void A_semicolon_cannot_hide_a_removed_parameter_from_servers_that_split_on_it(string query, string expected)
    {
        Assert.Equal(expected, QueryStringEditor.Remove(new QueryString(query), "code").Value);
    }

    [Fact]
    public void A_query_the_removal_does_not_touch_is_the_same_instance()
    {
        var query = new QueryString("?x=1;y=2&z=3");

        Assert.Same(query.Value, QueryStringEditor.Remove(query, "code").Value);
    }
}
