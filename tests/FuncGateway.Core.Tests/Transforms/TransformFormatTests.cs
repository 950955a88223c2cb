using FuncGateway.Configuration;
using FuncGateway.Forwarding;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Transforms;
using Microsoft.Extensions.Time.Testing;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Transforms;

/// <summary>The <c>Transforms</c> route property: read from the entity, checked in full at load, and a bad list rejects only its row.</summary>
public sealed class TransformFormatTests
{
    internal static GatewaySnapshot Build(params RegistryRow[] routes) =>
        new SnapshotBuilder(GatewayCapabilities.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                transformProviders: [ForwardingTransformProvider.Instance, TraceContextTransformProvider.Instance, new RouteTransformListProvider(new FakeTimeProvider(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)])
            .Build(new RegistryContent([], routes), version: 1, TimeProvider.System.GetUtcNow());

    private static IReadOnlyList<string> Rejection(string transforms, string path = "/a/{id}")
    {
        var snapshot = Build(Route("bad", path, "http://10.0.0.1", ("Transforms", transforms)), Route("good", "/good", "http://10.0.0.1"));
        Assert.Equal("good", Assert.Single(snapshot.Routes).Definition.Id);
        var rejected = Assert.Single(snapshot.Rejected);
        Assert.Equal("bad", rejected.RowKey);
        return rejected.Errors;
    }

    [Fact]
    public void A_valid_list_compiles_into_transforms_between_forwarding_and_identity_in_list_order()
    {
        var snapshot = Build(Route("r", "/orders/{id}", "http://10.0.0.1", ("Transforms", """
            [{"RequestHeader":"X-Api-Version","Set":"2"},
             {"QueryParameterRename":"q","To":"search"},
             {"RequestHeaderRemove":"X-Debug"},
             {"HttpMethodChange":"PUT","Set":"POST"},
             {"ResponseStatus":"404","Set":"410"},
             {"ResponseHeaderRemove":"Server"},
             {"ResponseStatus":"500","Set":"502"},
             {"ResponseContentType":"application/json; charset=utf-8","IfMediaType":"text/plain,missing"}]
            """)));
        var route = Assert.Single(snapshot.Routes);
        Assert.Empty(snapshot.Rejected);
        Assert.Equal(
            [nameof(UntrustedHeadersTransform), nameof(ForwardedHeadersTransform), nameof(HostTransform), nameof(TraceContextTransform),
             nameof(RequestHeaderTransform), nameof(QueryParameterRenameTransform), nameof(RequestHeaderRemoveTransform), nameof(HttpMethodChangeTransform)],
            route.Transforms.Request.Select(t => t.GetType().Name));
        Assert.Equal(
            [nameof(ConnectionOptionsTransform), nameof(ResponseStatusTransform), nameof(ResponseHeaderRemoveTransform), nameof(ResponseContentTypeTransform)],
            route.Transforms.Response.Select(t => t.GetType().Name));
        var statuses = Assert.IsType<ResponseStatusTransform>(route.Transforms.Response[1]);
        Assert.Equal(410, statuses.Map[404]);
        Assert.Equal(502, statuses.Map[500]);
        Assert.False(route.Transforms.BuffersResponseBody);
    }

    [Fact]
    public void The_order_constant_sits_between_forwarding_and_identity()
    {
        Assert.True(RouteTransformOrder.Forwarding < RouteTransformOrder.Transforms);
        Assert.True(RouteTransformOrder.Transforms < RouteTransformOrder.Identity);
        Assert.Equal(RouteTransformOrder.Transforms, new RouteTransformListProvider(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Order);
    }

    [Fact]
    public void The_list_reads_back_as_written_and_compares_by_value()
    {
        const string json = """[{"RequestHeader":"X-A","Set":"{RouteId}"},{"ResponseStatus":"404","Set":"410"}]""";
        var first = TransformsProperties.Parse(json, []);
        var second = TransformsProperties.Parse(json, []);
        Assert.NotNull(first);
        Assert.Equal(first, second);
        Assert.Equal(json, TransformsProperties.Transforms.ToEntity(first!));
        Assert.Null(TransformsProperties.Parse("[]", []));
    }

    [Theory]
    [InlineData("{\"RequestHeader\":\"X\",\"Set\":\"1\"}", "expected a JSON array")]
    [InlineData("[{\"ResponseStatus\":404,\"Set\":\"410\"}]", "must be a JSON string")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"1\",\"set\":\"2\"}]", "given twice")]
    [InlineData("[{\"Header\":\"X\",\"Set\":\"1\"}]", "is not a known transform")]
    [InlineData("[{\"RequestHeader\":\"X\",\"ResponseHeader\":\"Y\",\"Set\":\"1\"}]", "names two kinds")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"1\",\"When\":\"Always\"}]", "unknown member 'When'")]
    [InlineData("[{\"RequestHeader\":\"X\"}]", "exactly one of Set, Append or SetIfMissing")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"1\",\"Append\":\"2\"}]", "exactly one of Set, Append or SetIfMissing")]
    [InlineData("[{\"RequestHeader\":\"X Y\",\"Set\":\"1\"}]", "not a valid header name")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"a\\r\\nY: b\"}]", "no CR, LF")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{Nope}\"}]", "unknown variable {Nope}")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{Header}\"}]", "needs a name after a colon")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{RouteId:x}\"}]", "takes no argument")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{RouteId\"}]", "is not closed")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"a}b\"}]", "closes nothing")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{Route:nope}\"}]", "has no parameter 'nope'")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{Header:X-User-Id}\"}]", "never trusts")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{Header:Authorization}\"}]", "credential")]
    [InlineData("[{\"RequestHeader\":\"X\",\"Set\":\"{Query:access_token}\"}]", "credential")]
    [InlineData("[{\"RequestHeaderRename\":\"X-A\"}]", "needs 'To'")]
    [InlineData("[{\"RequestHeaderRename\":\"X-A\",\"To\":\"x-a\"}]", "to itself")]
    [InlineData("[{\"QueryParameter\":\"a\"}]", "needs 'Set'")]
    [InlineData("[{\"QueryParameterRename\":\"key\",\"To\":\"code\"}]", "credential parameter")]
    [InlineData("[{\"QueryParameterRename\":\"access_token\",\"To\":\"t\"}]", "credential parameter")]
    [InlineData("[{\"QueryParameter\":\"code\",\"Set\":\"x\"}]", "credential parameter")]
    [InlineData("[{\"HttpMethodChange\":\"PUT\",\"Set\":\"P OST\"}]", "not a valid HTTP method")]
    [InlineData("[{\"HttpMethodChange\":\"PUT\",\"Set\":\"put\"}]", "to itself")]
    [InlineData("[{\"HttpMethodChange\":\"GET\",\"Set\":\"CONNECT\"}]", "CONNECT")]
    [InlineData("[{\"HttpMethodChange\":\"PUT\",\"Set\":\"POST\"},{\"HttpMethodChange\":\"put\",\"Set\":\"PATCH\"}]", "already changed")]
    [InlineData("[{\"ResponseStatus\":\"404\"}]", "needs 'Set'")]
    [InlineData("[{\"ResponseStatus\":\"101\",\"Set\":\"200\"}]", "1xx cannot be mapped")]
    [InlineData("[{\"ResponseStatus\":\"404\",\"Set\":\"600\"}]", "not a status code in 200–599")]
    [InlineData("[{\"ResponseStatus\":\"404\",\"Set\":\"abc\"}]", "not a status code")]
    [InlineData("[{\"ResponseStatus\":\"200\",\"Set\":\"204\"}]", "without a body")]
    [InlineData("[{\"ResponseStatus\":\"304\",\"Set\":\"200\"}]", "without a body")]
    [InlineData("[{\"ResponseStatus\":\"404\",\"Set\":\"404\"}]", "to itself")]
    [InlineData("[{\"ResponseStatus\":\"404\",\"Set\":\"410\"},{\"ResponseStatus\":\"404\",\"Set\":\"400\"}]", "already mapped to 410")]
    [InlineData("[{\"ResponseContentType\":\"json\"}]", "not a media type")]
    [InlineData("[{\"ResponseContentType\":\"application/json\",\"IfMediaType\":\"text/plain; charset=utf-8\"}]", "without parameters")]
    [InlineData("[{\"ResponseContentType\":\"application/json\",\"IfMediaType\":\" , \"}]", "IfMediaType is empty")]
    [InlineData("[{\"ResponseHeader\":\"X-Echo\",\"Set\":\"{Header:X-A}\"}]", "may not reflect the client's input")]
    [InlineData("[{\"ResponseHeaderRemove\":\"Transfer-Encoding\"}]", "hop-by-hop or framing")]
    public void A_bad_list_rejects_only_its_row_with_the_reason(string transforms, string reason)
    {
        var errors = Rejection(transforms);
        Assert.Contains(errors, e => e.Contains(reason, StringComparison.Ordinal) && e.StartsWith("Transforms", StringComparison.Ordinal));
    }

    [Theory]
    // The identity namespace, and look-alikes of it: never, whatever the value.
    [InlineData("{\"RequestHeader\":\"X-User-Id\",\"Set\":\"admin\"}", "identity namespace")]
    [InlineData("{\"RequestHeader\":\"x_gateway_signature\",\"Set\":\"v1=0\"}", "identity namespace")]
    [InlineData("{\"RequestHeaderRemove\":\"X-Gateway-Auth-Policy\"}", "identity namespace")]
    [InlineData("{\"RequestHeaderRename\":\"X-Name\",\"To\":\"X-Consumer-Id\"}", "identity namespace")]
    [InlineData("{\"RequestHeaderRename\":\"X-User-Email\",\"To\":\"X-Mail\"}", "identity namespace")]
    // Hop-by-hop and framing headers: never.
    [InlineData("{\"RequestHeader\":\"Connection\",\"Set\":\"close\"}", "hop-by-hop")]
    [InlineData("{\"RequestHeaderRename\":\"X-Len\",\"To\":\"Content-Length\"}", "hop-by-hop")]
    [InlineData("{\"RequestHeaderRemove\":\"Transfer-Encoding\"}", "hop-by-hop")]
    // Host: only an explicit Set to a value without caller or client input.
    [InlineData("{\"RequestHeader\":\"Host\",\"Set\":\"{Header:X-Host-Wanted}\"}", "'Host' may only be Set")]
    [InlineData("{\"RequestHeader\":\"Host\",\"Append\":\"a.example\"}", "'Host' may only be Set")]
    [InlineData("{\"RequestHeaderRename\":\"X-H\",\"To\":\"Host\"}", "'Host' may only be Set")]
    // Headers only the gateway speaks for: no caller or client input, never a rename target.
    [InlineData("{\"RequestHeader\":\"X-Forwarded-For\",\"Set\":\"{Header:X-Real-Ip}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeader\":\"X-HTTP-Method-Override\",\"Set\":\"{Query:m}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeader\":\"X_Forwarded_Host\",\"SetIfMissing\":\"{Claim:host}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeaderRename\":\"X-Client-Proto\",\"To\":\"X-Forwarded-Proto\"}", "cannot be renamed into it")]
    [InlineData("{\"RequestHeaderRename\":\"X-Caller\",\"To\":\"X-Real-IP\"}", "cannot be renamed into it")]
    [InlineData("{\"RequestHeader\":\"True-Client-IP\",\"Set\":\"{Header:X-Caller}\"}", "may not take caller or client input")]
    // App Service's front-end and authentication headers: an upstream on App Service takes them as its platform's word.
    [InlineData("{\"RequestHeader\":\"X-MS-CLIENT-PRINCIPAL-NAME\",\"Set\":\"{Claim:upn}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeaderRename\":\"X-Caller-Ssl\",\"To\":\"X-ARR-SSL\"}", "cannot be renamed into it")]
    // The request id and trace context: the same rules (a client must not choose the id or trace the upstream sees).
    [InlineData("{\"RequestHeader\":\"X-Request-Id\",\"Set\":\"{Header:X-Client-Id}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeader\":\"traceparent\",\"Set\":\"{Query:trace}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeader\":\"TraceState\",\"Append\":\"{Header:X-State}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeader\":\"baggage\",\"SetIfMissing\":\"{Claim:sub}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeader\":\"Request-Id\",\"Set\":\"{UserId}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeader\":\"X_Request_Id\",\"Set\":\"{Route:id}\"}", "may not take caller or client input")]
    [InlineData("{\"RequestHeaderRename\":\"X-Parent\",\"To\":\"traceparent\"}", "cannot be renamed into it")]
    [InlineData("{\"RequestHeaderRename\":\"X-Bag\",\"To\":\"Correlation-Context\"}", "cannot be renamed into it")]
    public void Names_a_client_must_not_control_cannot_be_reached_through_a_transform(string transform, string reason)
    {
        var errors = Rejection("[" + transform + "]");
        Assert.Contains(errors, e => e.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Gateway_made_values_may_go_into_headers_only_the_gateway_speaks_for()
    {
        var snapshot = Build(Route("r", "/a", "http://10.0.0.1", ("Transforms", """
            [{"RequestHeader":"Host","Set":"legacy.internal"},
             {"RequestHeader":"X-Forwarded-Prefix","Set":"/api"},
             {"RequestHeader":"X-HTTP-Method-Override","Set":"{Method}"},
             {"RequestHeaderRemove":"X-Forwarded-Proto"},
             {"RequestHeaderRename":"X-Forwarded-For","To":"X-Client-Ip"},
             {"RequestHeaderRename":"X-Request-Id","To":"X-Real-IP"},
             {"RequestHeader":"X-Request-Id","SetIfMissing":"{RequestId}"},
             {"RequestHeader":"baggage","Set":"route={RouteId}"},
             {"RequestHeaderRemove":"tracestate"},
             {"RequestHeaderRename":"traceparent","To":"X-Upstream-Trace"}]
            """)));
        Assert.Empty(snapshot.Rejected);
        Assert.Single(snapshot.Routes);
    }

    [Fact]
    public void The_routes_own_credential_parameters_cannot_be_renamed_away_from_the_identity_transform()
    {
        // Without a credential parameter of that name, "key" is an ordinary parameter.
        Assert.Empty(Build(Route("r", "/a", "http://10.0.0.1", ("Transforms", """[{"QueryParameterRename":"key","To":"k"}]"""))).Rejected);

        var snapshot = Build(Route("r", "/a", "http://10.0.0.1", ("Auth", "keys"), ("ApiKeyQueryParameter", "key"),
            ("Transforms", """[{"QueryParameterRename":"key","To":"k"}]""")));
        Assert.Contains(Assert.Single(snapshot.Rejected).Errors, e => e.Contains("credential parameter", StringComparison.Ordinal));
    }

    [Fact]
    public void Reading_the_entity_checks_the_list_against_the_rows_path_and_credentials_as_fgw_validate_does()
    {
        // No transform provider at all (as in fgw validate): the entity read alone rejects both rows.
        var snapshot = new SnapshotBuilder(GatewayCapabilities.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100))
            .Build(new RegistryContent([], [
                Route("param", "/a/{id}", "http://10.0.0.1", ("Transforms", """[{"RequestHeader":"X-Item","Set":"{Route:item}"}]""")),
                Route("cred", "/k", "http://10.0.0.1", ("Auth", "keys"), ("ApiKeyQueryParameter", "key"), ("Transforms", """[{"QueryParameterRename":"key","To":"k"}]""")),
            ]), version: 1, TimeProvider.System.GetUtcNow());

        Assert.Empty(snapshot.Routes);
        var reasons = snapshot.Rejected.ToDictionary(r => r.RowKey, r => string.Join(" ", r.Errors));
        Assert.Contains("the route's Path has no parameter 'item' (it has id)", reasons["param"], StringComparison.Ordinal);
        Assert.Contains("'key' is a credential parameter", reasons["cred"], StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_of_a_list_is_reported_at_once_with_its_index()
    {
        var errors = Rejection("""[{"RequestHeader":"X-User-Id","Set":"a"},{"ResponseStatus":"404","Set":"1000"},{"Nope":"x"}]""");
        Assert.Contains(errors, e => e.StartsWith("Transforms[0] (RequestHeader 'X-User-Id')", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Transforms[1] (ResponseStatus '404')", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Transforms[2]:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_list_longer_than_the_limit_is_refused()
    {
        var items = string.Join(',', Enumerable.Range(0, TransformCompiler.MaxTransforms + 1).Select(i => $"{{\"RequestHeaderRemove\":\"X-{i}\"}}"));
        Assert.Contains(Rejection("[" + items + "]"), e => e.Contains("at most 100", StringComparison.Ordinal));
    }
}
