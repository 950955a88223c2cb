using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.FixedResponses;

/// <summary>A route's <c>FixedResponse</c>, validated and encoded once per snapshot, served instead of forwarding.</summary>
internal sealed class FixedResponder(StaticResponse response) : IRouteResponder
{
    private const string Example = "{\"status\":200,\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"{\\\"status\\\":\\\"ok\\\"}\"}";

    public string Property => "FixedResponse";

    public StaticResponse Response { get; } = response;

    public Task RespondAsync(HttpContext context, GatewayRequestFeature feature) => Response.WriteAsync(context);

    /// <summary>
    /// Reads the property's JSON. What it says is checked when the route compiles (<see cref="FixedResponseCompiler"/>,
    /// which <c>fgw validate</c> runs too), so a row that reads but does not validate is still exported as it is.
    /// </summary>
    public static FixedResponseDefinition? Parse(string name, string? json, List<string> errors) =>
        RegistryJson.ParseObject<FixedResponseDefinition>(name, json, Example, errors);

    public static FixedResponder? Create(string name, FixedResponseDefinition definition, List<string> errors)
    {
        var start = errors.Count;
        byte[]? body = null;
        if (definition.Body is not null && definition.BodyBase64 is not null)
        {
            errors.Add($"{name}: give body or bodyBase64, not both.");
        }
        else if (definition.BodyBase64 is { } base64)
        {
            try
            {
                body = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                errors.Add($"{name}: bodyBase64 is not valid base64.");
            }
        }
        else
        {
            body = StaticResponse.Utf8(definition.Body);
        }

        var response = StaticResponse.Create(name, definition.Status, definition.Headers, body, errors);
        return errors.Count > start || response is null ? null : new FixedResponder(response);
    }
}

/// <summary>Compiles a route's <c>FixedResponse</c> into its <see cref="FixedResponder"/>.</summary>
internal sealed class FixedResponseCompiler : IRouteFeatureCompiler
{
    public static readonly FixedResponseCompiler Instance = new();

    public object? Compile(RouteDefinition route, List<string> errors) =>
        route.Get(FixedResponseProperties.FixedResponse) is { } definition ? FixedResponder.Create("FixedResponse", definition, errors) : null;
}
