using FuncGateway.Composition;
using FuncGateway.FixedResponses;
using FuncGateway.Model;

namespace FuncGateway.Cli.Tests;

/// <summary>
/// Routes without an upstream in a registry file: <c>fixedResponse</c> and <c>composition</c> as native JSON, written
/// back unchanged, and validated offline (<c>fgw validate</c>) exactly as the gateway validates the tables.
/// </summary>
public sealed class AnsweringRoutesRegistryFileTests
{
    private const string File = """
        {
          "upstreams": [
            { "name": "users", "instances": [ "http://10.0.0.4:8080" ] }
          ],
          "routes": [
            {
              "id": "profile",
              "path": "/profile/{id}",
              "auth": "anonymous",
              "composition": {
                "parts": [
                  { "name": "user", "upstream": "users", "path": "/users/{id}", "timeoutMs": 500 },
                  { "name": "orders", "upstream": "http://10.0.0.5:8080", "path": "/orders?customer={parts.user.body.id}", "dependsOn": [ "user" ], "required": false }
                ],
                "template": "{\"name\": {{ parts.user.body.name | json }}}"
              }
            },
            {
              "id": "status",
              "path": "/status",
              "auth": "anonymous",
              "fixedResponse": { "status": 200, "headers": { "Content-Type": "application/json" }, "body": "{\"status\":\"ok\"}" }
            }
          ]
        }
        """;

    private static RegistryVerdict Validate(string file)
    {
        var parsed = RegistryFile.Parse(file, "f.json");
        return RegistryValidation.Validate(
            new RegistryContent([.. parsed.Upstreams!.Select(RegistryFormat.ToRow)], [.. parsed.Routes!.Select(RegistryFormat.ToRow)]), UpstreamAllowlist.Any);
    }

    [Fact]
    public void The_routes_read_validate_and_write_back_without_an_upstream()
    {
        var file = RegistryFile.Parse(File, "f.json");

        var profile = file.Routes!.Single(r => r.Id == "profile");
        Assert.Null(profile.Upstream);
        Assert.Equal(["user", "orders"], profile.Get(CompositionProperties.Composition)!.Parts.Select(p => p.Name));
        Assert.Equal(200, file.Routes!.Single(r => r.Id == "status").Get(FixedResponseProperties.FixedResponse)!.Status);
        Assert.False(RegistryFormat.ToRow(profile).Properties.ContainsKey("Upstream"));
        Assert.Empty(Validate(File).Rejected);

        var written = RegistryFile.Serialize(file.Upstreams, file.Routes);
        Assert.DoesNotContain("\"upstream\": null", written, StringComparison.Ordinal);
        var again = RegistryFile.Parse(written, "w.json");
        Assert.Equal(written, RegistryFile.Serialize(again.Upstreams, again.Routes));
    }

    [Fact]
    public void Validation_offline_rejects_what_the_gateway_would_with_its_reasons()
    {
        var bad = File.Replace("\"upstream\": \"users\"", "\"upstream\": \"nobody\"", StringComparison.Ordinal)
            .Replace("\"status\": 200", "\"status\": 204", StringComparison.Ordinal);

        var rejected = Validate(bad).Rejected;

        Assert.Contains("Composition part 'user': Upstream 'nobody' is neither a known upstream pool nor an absolute http(s) URL.",
            rejected.Single(r => r.RowKey == "profile").Errors);
        Assert.DoesNotContain(rejected.Single(r => r.RowKey == "profile").Errors, e => e.StartsWith("Upstream is required", StringComparison.Ordinal));
        Assert.Contains("FixedResponse status 204 cannot have a body.", string.Join(" ", rejected.Single(r => r.RowKey == "status").Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_value_no_response_can_carry_and_a_tunnel_method_for_a_part_are_rejected_with_their_reasons()
    {
        var bad = File.Replace("\"Content-Type\": \"application/json\"", "\"Content-Type\": \"application/json\", \"X-Name\": \"caf\u00e9\"", StringComparison.Ordinal)
            .Replace("\"timeoutMs\": 500", "\"timeoutMs\": 500, \"method\": \"CONNECT\"", StringComparison.Ordinal);

        var rejected = Validate(bad).Rejected;

        Assert.Contains("FixedResponse header 'X-Name' needs a single-line value of visible ASCII characters",
            string.Join(" ", rejected.Single(r => r.RowKey == "status").Errors), StringComparison.Ordinal);
        Assert.Contains("Composition part 'user': method 'CONNECT' cannot be a part's method.",
            string.Join(" ", rejected.Single(r => r.RowKey == "profile").Errors), StringComparison.Ordinal);
    }
}
