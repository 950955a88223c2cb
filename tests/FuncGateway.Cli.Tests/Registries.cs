namespace FuncGateway.Cli.Tests;

/// <summary>Registry files the tests import.</summary>
internal static class Registries
{
    /// <summary>Two pools (one in another group, one weighted instance) and three routes using most properties.</summary>
    public const string Sample = """
        {
          "upstreams": [
            { "name": "echo", "instances": [ { "url": "http://127.0.0.1:5080", "weight": 1 }, { "url": "http://127.0.0.1:5081", "weight": 3 } ] },
            { "name": "orders", "group": "shop", "instances": [ "http://10.0.0.4:8080" ], "loadBalancing": "RoundRobin" }
          ],
          "routes": [
            { "id": "echo", "path": "/echo/{**rest}", "methods": ["GET", "POST"], "headers": [ { "name": "X-Version", "values": ["2"] } ],
              "upstream": "echo", "stripPrefix": "/echo", "timeoutSeconds": 30, "auth": "anonymous" },
            { "id": "orders", "group": "shop", "path": "/api/orders/{id:int}", "upstream": "orders", "upstreamPath": "/orders/{id}",
              "priority": 5, "enabled": false, "preserveHost": true, "auth": ["corp-jwt", "partner-keys"],
              "authorization": { "roles": ["orders.admin"], "claims": { "tenant": ["contoso"] } } },
            { "id": "direct", "path": "/direct/{**rest}", "upstream": "http://127.0.0.1:5080", "auth": "anonymous" }
          ]
        }
        """;

    /// <summary><see cref="Sample"/>'s rows: 2 upstreams + 3 routes.</summary>
    public const int SampleRows = 5;
}
