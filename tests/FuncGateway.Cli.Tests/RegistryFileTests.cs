using FuncGateway.Model;
using FuncGateway.Forwarding;

namespace FuncGateway.Cli.Tests;

/// <summary>The file format on its own: strict reading, canonical writing.</summary>
public sealed class RegistryFileTests
{
    [Fact]
    public void Instances_may_be_url_strings_or_objects_and_group_defaults()
    {
        var file = RegistryFile.Parse(
            """{ "upstreams": [ { "name": "p", "instances": [ "http://a:1", { "url": "http://b:2", "weight": 5 }, { "url": "http://c:3" } ] } ] }""",
            "f.json");

        var pool = Assert.Single(file.Upstreams!);
        Assert.Equal("default", pool.Group);
        Assert.Equal("RoundRobin", pool.LoadBalancing);
        Assert.Equal(
            [new UpstreamInstanceDefinition("http://a:1"), new UpstreamInstanceDefinition("http://b:2", 5), new UpstreamInstanceDefinition("http://c:3")],
            pool.Instances);
        Assert.Null(file.Routes);
        Assert.Equal(RegistrySections.Upstreams, file.Sections);
    }

    [Theory]
    [InlineData("""{ "routes": [ { "id": "a", "upstream": "u" } ] }""", "line 1, column 45, at routes[0]: A route object is missing required properties: 'path'.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "priority": "1" } ] }""", "at routes[0].priority: Expected an integer here.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "enabled": "no" } ] }""", "at routes[0].enabled: Expected true or false here.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "headers": [ { "name": "h", "mode": "Equals" } ] } ] }""", "at routes[0].headers[0].mode: Expected one of Exact, Prefix, Contains, Exists, NotExists here.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "methods": [ "GET", null ] } ] }""", "routes[0].methods[1]: an item may not be null.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "methods": [ "" ] } ] }""", "routes[0].methods[0]: an empty method name.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "methods": [ "GET", " " ] } ] }""", "routes[0].methods[1]: an empty method name.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "methods": "" } ] }""", "at routes[0].methods: Expected an array of strings here.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "hosts": [ "api.example.com", "" ] } ] }""", "routes[0].hosts[1]: an empty host name.")]
    [InlineData("""{ "routes": [ { "id": "a", "path": null, "upstream": "u" } ] }""", "at routes[0].path: 'path' may not be null.")]
    [InlineData("""{ "routes": null }""", "at routes: 'routes' may not be null.")]
    [InlineData("""{ "route": [] }""", "at route: Unknown property 'route' in an object {\"upstreams\": [...], \"routes\": [...]}.")]
    [InlineData("""{ "routes": [], "routes": [] }""", "Duplicate property 'routes'.")]
    [InlineData("""{ "upstreams": [ { "name": "p", "instances": [ { "url": "http://a", "weigth": 2 } ] } ] }""", "at upstreams[0].instances[0]: Unknown property 'weigth' in an instance")]
    [InlineData("""{ "upstreams": [ { "name": "p", "instances": [ 42 ] } ] }""", "An instance is a URL string or an object")]
    [InlineData("""{ "routes": [ ], }""", "line 1, column 18: ")]
    public void A_malformed_file_is_refused_with_position_and_reason(string json, string expected)
    {
        var error = Assert.Throws<CliException>(() => RegistryFile.Parse(json, "f.json"));

        Assert.Equal(ExitCodes.InvalidInput, error.ExitCode);
        Assert.StartsWith("f.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("FuncGateway.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Serialize_sorts_and_leaves_out_defaults_and_parse_reads_it_back_equal()
    {
        RouteDefinition[] routes =
        [
            new() { Id = "b", Path = "/b", Upstream = "http://x", Headers = [new RequestCondition("X-Flag", null!, ConditionMode.Exists)] },
            new() { Id = "a", Group = "g", Path = "/a", Upstream = "p", Methods = ["GET"], Priority = 2, TimeoutSeconds = 2.5, Enabled = false },
        ];
        UpstreamDefinition[] upstreams = [new() { Name = "p", Instances = [new("http://p:1", 2)], LoadBalancing = "RoundRobin" }];

        var json = RegistryFile.Serialize(upstreams, routes);

        Assert.Equal(
            """
            {
              "upstreams": [
                {
                  "name": "p",
                  "instances": [
                    {
                      "url": "http://p:1",
                      "weight": 2
                    }
                  ]
                }
              ],
              "routes": [
                {
                  "id": "a",
                  "group": "g",
                  "path": "/a",
                  "methods": [
                    "GET"
                  ],
                  "upstream": "p",
                  "priority": 2,
                  "timeoutSeconds": 2.5,
                  "enabled": false
                },
                {
                  "id": "b",
                  "path": "/b",
                  "headers": [
                    {
                      "name": "X-Flag",
                      "mode": "Exists"
                    }
                  ],
                  "upstream": "http://x"
                }
              ]
            }

            """,
            json);
        var back = RegistryFile.Parse(json, "f.json");
        Assert.Equal(RegistryFormat.ToRow(routes[1]).Properties, RegistryFormat.ToRow(back.Routes![0]).Properties);
        Assert.Equal(RegistryFormat.ToRow(routes[0]).Properties, RegistryFormat.ToRow(back.Routes![1]).Properties);
        Assert.Equal(RegistryFormat.ToRow(upstreams[0]).Properties, RegistryFormat.ToRow(back.Upstreams![0]).Properties);
    }

    [Fact]
    public void WebSockets_is_read_written_and_stored_as_a_boolean_and_left_out_when_false()
    {
        var file = RegistryFile.Parse(
            """{ "routes": [ { "id": "ws", "path": "/ws", "upstream": "http://x", "webSockets": true }, { "id": "plain", "path": "/p", "upstream": "http://x" } ] }""",
            "f.json");

        var ws = file.Routes![0];
        Assert.True(ws.Get(ForwardingProperties.WebSockets));
        Assert.False(file.Routes[1].Get(ForwardingProperties.WebSockets));

        var json = RegistryFile.Serialize(null, file.Routes);
        Assert.Contains("\"webSockets\": true", json, StringComparison.Ordinal);
        Assert.Equal(2, json.Split("webSockets").Length); // only the route that enables it

        var row = RegistryFormat.ToRow(ws);
        Assert.Equal(true, row.Properties["WebSockets"]);
        Assert.False(RegistryFormat.ToRow(file.Routes[1]).Properties.ContainsKey("WebSockets"));
        var errors = new List<string>();
        Assert.True(RegistryFormat.ParseRoute(row with { Properties = new Dictionary<string, object?>(row.Properties) { ["Auth"] = "anonymous" } }, errors)!.Get(ForwardingProperties.WebSockets), string.Join("; ", errors));

        var bad = Assert.Throws<CliException>(() => RegistryFile.Parse("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "u", "webSockets": "yes" } ] }""", "f.json"));
        Assert.Contains("at routes[0].webSockets: Expected true or false here.", bad.Message, StringComparison.Ordinal);
    }
}
