using System.Text;
using System.Text.Json;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Validation;

/// <summary>Builds snapshots with the validation compilers and runs the validation step on a request in memory.</summary>
internal static class ValidationTestSupport
{
    public const long GlobalLimit = 100L * 1024 * 1024;

    public static GatewaySnapshot Build(RegistryRow[] routes, RegistryRow[]? schemas = null) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                [new RouteValidationCompiler(GlobalLimit)], tableCompilers: [new SchemaTableCompiler()])
            .Build(new RegistryContent([], routes) { Schemas = schemas ?? [] }, 1, DateTimeOffset.UnixEpoch);

    public static RegistryRow Schema(string name, string json) => Row(RegistryTable.Schemas, "default", name, ("Schema", json));

    public static RegistryRow ValidatedRoute(string id, string validationJson) => Route(id, "/" + id, "http://10.0.0.1", ("Validation", validationJson));

    public static string Errors(GatewaySnapshot snapshot, string rowKey) =>
        string.Join(" | ", Assert.Single(snapshot.Rejected, r => r.RowKey == rowKey).Errors);

    /// <summary>The route's compiled validation from a snapshot that must accept it.</summary>
    public static CompiledRoute Compile(string validationJson, RegistryRow[]? schemas = null)
    {
        var snapshot = Build([ValidatedRoute("r", validationJson)], schemas);
        Assert.Empty(snapshot.Rejected);
        return Assert.Single(snapshot.Routes);
    }

    /// <summary>Runs the step; returns whether the request may go on, the context (response, body) and the problem JSON if any.</summary>
    public static async Task<Outcome> RunAsync(CompiledRoute route, string method = "POST", string path = "/r", string query = "", string? body = null,
        string? contentType = "application/json", bool chunked = false, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Request.Body = new MemoryStream(bytes);
            if (chunked)
            {
                context.Request.Headers.TransferEncoding = "chunked";
            }
            else
            {
                context.Request.ContentLength = bytes.Length;
            }

            context.Request.ContentType = contentType;
        }

        var response = new MemoryStream();
        context.Response.Body = response;
        var feature = new GatewayRequestFeature(route, new RouteValueDictionary());
        var goOn = await new ValidationStep(NullLogger<ValidationStep>.Instance).InvokeAsync(context, feature);
        JsonElement? problem = null;
        if (!goOn && response.Length > 0)
        {
            problem = JsonDocument.Parse(response.ToArray()).RootElement;
        }

        return new Outcome(goOn, context, feature, problem);
    }

    internal sealed record Outcome(bool Continues, HttpContext Context, GatewayRequestFeature Feature, JsonElement? Problem)
    {
        public int Status => Context.Response.StatusCode;

        public string Code => Problem!.Value.GetProperty("code").GetString()!;

        public (string In, string Location, string Rule)[] Violations => Problem is { } p && p.TryGetProperty("violations", out var v)
            ? [.. v.EnumerateArray().Select(e => (e.GetProperty("in").GetString()!, e.GetProperty("location").GetString()!, e.GetProperty("rule").GetString()!))]
            : [];

        public string ForwardedBody
        {
            get
            {
                Context.Request.Body.Position = 0;
                return new StreamReader(Context.Request.Body).ReadToEnd();
            }
        }
    }
}
