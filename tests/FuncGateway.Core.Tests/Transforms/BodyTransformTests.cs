using System.Security.Claims;
using System.Text.Json.Nodes;
using FuncGateway.Model;
using FuncGateway.Transforms;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Transforms;

/// <summary>The JSON Pointer of body transforms, what a removal does for which caller, and the checks made at load.</summary>
public sealed class BodyTransformTests
{
    private static JsonPointer Pointer(string text) => JsonPointer.Parse(text, out _) ?? throw new InvalidOperationException(text);

    [Theory]
    [InlineData("/a", """{"b":1}""")]
    [InlineData("/list/*/x", """{"a":1,"list":[{"y":1},{"y":2},3],"a~b":1,"c/d":1,"*":1}""")]
    [InlineData("/list/1", """{"a":1,"list":[{"x":1,"y":1},3],"a~b":1,"c/d":1,"*":1}""")]
    [InlineData("/a~0b", """{"a":1,"list":[{"x":1,"y":1},{"x":2,"y":2},3],"c/d":1,"*":1}""")]
    [InlineData("/c~1d", """{"a":1,"list":[{"x":1,"y":1},{"x":2,"y":2},3],"a~b":1,"*":1}""")]
    [InlineData("/*", """{"a":1,"list":[{"x":1,"y":1},{"x":2,"y":2},3],"a~b":1,"c/d":1}""")]
    [InlineData("/list/01", """{"a":1,"list":[{"x":1,"y":1},{"x":2,"y":2},3],"a~b":1,"c/d":1,"*":1}""")]
    [InlineData("/missing/x", """{"a":1,"list":[{"x":1,"y":1},{"x":2,"y":2},3],"a~b":1,"c/d":1,"*":1}""")]
    public void A_pointer_removes_what_it_reaches_and_star_means_every_array_element(string path, string expected)
    {
        var document = JsonNode.Parse(path == "/a" ? """{"a":{"x":1},"b":1}""" : """{"a":1,"list":[{"x":1,"y":1},{"x":2,"y":2},3],"a~b":1,"c/d":1,"*":1}""");
        Pointer(path).Remove(document);
        Assert.Equal(expected, document!.ToJsonString());
    }

    [Fact]
    public void Link_targets_keep_their_path_and_query_and_every_rel_is_read()
    {
        var links = new JsonObject();
        ResponseEnvelopeOperation.AddLinks("""<https://internal:8443/o?page=2>; rel="next last", </o?page=0>;rel=prev, junk""", links);
        Assert.Equal("""{"next":"/o?page=2","last":"/o?page=2","prev":"/o?page=0"}""", links.ToJsonString());
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("sales", true)]
    [InlineData("finance", false)]
    public void A_field_is_removed_unless_the_caller_has_a_listed_role_or_scope(string? role, bool removed)
    {
        var route = Assert.Single(TransformFormatTests.Build(Route("r", "/a", "http://10.0.0.1", ("Transforms", """[{"ResponseBodyRemove":"/cost","UnlessRole":"finance, audit","UnlessScope":"costs.read"}]"""))).Routes);
        var operation = (ResponseBodyRemoveOperation)((ResponseJsonBodyTransform)Assert.Single(route.Transforms.Response, static t => t is ResponseJsonBodyTransform)).Operations.Single();
        var identity = role is null ? null : new GatewayIdentity("p", "u", null, null, new ClaimsPrincipal()) { Roles = [role] };
        var document = JsonNode.Parse("""{"cost":1}""");
        operation.Apply(document, new GatewayRequestFeature(route, []) { Identity = identity });
        Assert.Equal(removed, !document!.AsObject().ContainsKey("cost"));

        var scoped = new GatewayIdentity("p", "u", null, null, new ClaimsPrincipal()) { Scopes = ["costs.read"] };
        Assert.False(operation.Apply(document, new GatewayRequestFeature(route, []) { Identity = scoped }));
    }

    [Fact]
    public void A_route_that_transforms_bodies_buffers_them_and_asks_the_upstream_for_identity_encoding()
    {
        var route = Assert.Single(TransformFormatTests.Build(Route("r", "/a", "http://10.0.0.1", ("Transforms", """[{"ResponseBodyRemove":"/a"},{"ResponseBodyRemove":"/b"}]"""))).Routes);
        Assert.True(route.Transforms.BuffersResponseBody);
        Assert.Equal(2, Assert.IsType<ResponseJsonBodyTransform>(Assert.Single(route.Transforms.Response, static t => t is ResponseJsonBodyTransform)).Operations.Count);
        Assert.IsType<WholePlainBodyTransform>(route.Transforms.Request.Single(static t => t is WholePlainBodyTransform));

        var plain = Assert.Single(TransformFormatTests.Build(Route("r", "/a", "http://10.0.0.1", ("Transforms", """[{"ResponseHeaderRemove":"Server"}]"""))).Routes);
        Assert.False(plain.Transforms.BuffersResponseBody);
    }

    [Theory]
    [InlineData("""[{"ResponseBodyRemove":"cost"}]""", "is not a JSON Pointer to a member")]
    [InlineData("""[{"ResponseBodyRemove":"/"}]""", "is not a JSON Pointer to a member")]
    [InlineData("""[{"ResponseBodyRemove":"/a~2"}]""", "'~' must be followed by 0 or 1")]
    [InlineData("""[{"ResponseBodyRemove":"/a","UnlessRole":" , "}]""", "UnlessRole must be a comma-separated list of names")]
    [InlineData("""[{"ResponseBodyRemove":"/a","Unless":"x"}]""", "ResponseBodyRemove takes UnlessRole, UnlessScope")]
    [InlineData("""[{"ResponseEnvelope":"data","Meta":"data"}]""", "Meta must be a member name other than the envelope's data member")]
    [InlineData("""[{"ResponseProblem":"3xx"}]""", "'3xx' is not 4xx, 5xx or an error status in 400–599")]
    [InlineData("""[{"ResponseProblem":"200"}]""", "'200' is not 4xx, 5xx or an error status in 400–599")]
    public void A_bad_body_transform_rejects_the_row_with_the_reason(string transforms, string reason)
    {
        var errors = new List<string>();
        Assert.Null(TransformsProperties.Parse(transforms, errors));
        Assert.Contains(errors, e => e.Contains(reason, StringComparison.Ordinal));
    }
}
