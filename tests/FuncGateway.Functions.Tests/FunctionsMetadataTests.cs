using System.Text.Json;

namespace FuncGateway.Functions.Tests;

/// <summary>
/// The functions.metadata the worker SDK generates is what the Functions host indexes: which functions exist and
/// which requests reach them. The host cannot run here, so its input is checked instead.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly string[] ExpectedMethods = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];

    /// <summary>Every function the app declares, one per line: a capability that adds a function adds its line here.</summary>
    private static readonly string[] ExpectedFunctions =
    [
        GatewayFunction.Name,
        RateLimitMaintenanceFunction.Name,
    ];

    [Fact]
    public void The_app_declares_exactly_the_expected_functions()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");

        var names = metadata.RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()!).Order(StringComparer.Ordinal);

        Assert.Equal(ExpectedFunctions.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public void The_gateway_runs_the_gateway_function_class()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var gateway = Gateway(metadata);

        Assert.Equal("FuncGateway.Functions.dll", gateway.GetProperty("scriptFile").GetString());
        Assert.Equal(
            $"{typeof(GatewayFunction).FullName}.{nameof(GatewayFunction.RunAsync)}",
            gateway.GetProperty("entryPoint").GetString());
    }

    [Fact]
    public void The_gateway_is_an_anonymous_http_trigger_for_every_path()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var trigger = Binding(Gateway(metadata), "httpTrigger");

        AssertText("In", trigger, "direction");
        AssertText("Anonymous", trigger, "authLevel");
        Assert.Equal("{*path}", trigger.GetProperty("route").GetString());
    }

    [Fact]
    public void The_gateway_accepts_every_standard_method_but_connect()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var trigger = Binding(Gateway(metadata), "httpTrigger");

        var methods = trigger.GetProperty("methods").EnumerateArray()
            .Select(m => m.GetString()!.ToUpperInvariant())
            .Order(StringComparer.Ordinal);

        Assert.Equal(ExpectedMethods.Select(m => m.ToUpperInvariant()).Order(StringComparer.Ordinal), methods);
    }

    [Fact]
    public void The_gateway_answers_through_an_http_return_binding()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var output = Binding(Gateway(metadata), "http");

        Assert.Equal("$return", output.GetProperty("name").GetString());
        AssertText("Out", output, "direction");
    }

    private static JsonElement Gateway(JsonDocument metadata) =>
        Assert.Single(metadata.RootElement.EnumerateArray(), f => f.GetProperty("name").GetString() == GatewayFunction.Name);

    private static JsonElement Binding(JsonElement function, string type) =>
        Assert.Single(
            function.GetProperty("bindings").EnumerateArray(),
            b => string.Equals(b.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase));

    // The host reads these values case-insensitively.
    private static void AssertText(string expected, JsonElement element, string property) =>
        Assert.Equal(expected, element.GetProperty(property).GetString(), ignoreCase: true);
}
