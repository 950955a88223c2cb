using System.Text.Json;

namespace FuncGateway.Functions.Tests;

/// <summary>
/// The functions.metadata the worker SDK generates is what the Functions host indexes: which functions exist and
/// which requests reach them. The host cannot run here, so its input is checked instead.
/// </summary>
public sealed class FunctionsMetadataTests
{
    /// <summary>Every function the app declares: name, entry point and trigger. A new function is added here.</summary>
    public static TheoryData<string, string, string> Functions => new()
    {
        { GatewayFunction.Name, $"{typeof(GatewayFunction).FullName}.{nameof(GatewayFunction.RunAsync)}", "httpTrigger" },
        { HealthProbeFunction.Name, $"{typeof(HealthProbeFunction).FullName}.{nameof(HealthProbeFunction.RunAsync)}", "timerTrigger" },
        { RateLimitMaintenanceFunction.Name, $"{typeof(RateLimitMaintenanceFunction).FullName}.{nameof(RateLimitMaintenanceFunction.RunAsync)}", "timerTrigger" },
    };

    [Fact]
    public void The_app_declares_exactly_the_expected_functions()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");

        var names = metadata.RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()).Order(StringComparer.Ordinal);

        Assert.Equal(Functions.Select(row => (string)row[0]).Order(StringComparer.Ordinal), names);
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Each_function_runs_its_class_from_the_app_assembly_on_its_trigger(string name, string entryPoint, string trigger)
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var function = Function(metadata, name);

        Assert.Equal("FuncGateway.Functions.dll", function.GetProperty("scriptFile").GetString());
        Assert.Equal(entryPoint, function.GetProperty("entryPoint").GetString());
        AssertText("In", Binding(function, trigger), "direction");
    }

    [Fact]
    public void The_health_probe_fires_every_five_seconds_and_not_on_start_up()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var trigger = Binding(Function(metadata, HealthProbeFunction.Name), "timerTrigger");

        Assert.Equal("*/5 * * * * *", trigger.GetProperty("schedule").GetString());
        Assert.False(trigger.TryGetProperty("runOnStartup", out var runOnStartup) && runOnStartup.ValueKind == JsonValueKind.True);
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
    public void The_gateway_accepts_every_method_as_the_server_does()
    {
        // Without "methods" the host routes every method to the function (PATCH, PROPFIND, PURGE, QUERY...), and the
        // core answers as FuncGateway.Server does. With a list, the host itself answers a bare 404 for the others.
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var trigger = Binding(Gateway(metadata), "httpTrigger");

        Assert.True(
            !trigger.TryGetProperty("methods", out var methods) || methods.ValueKind == JsonValueKind.Null,
            $"The gateway's trigger lists methods: {(trigger.TryGetProperty("methods", out var listed) ? listed.GetRawText() : "")}");
    }

    [Fact]
    public void The_gateway_answers_through_an_http_return_binding()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var output = Binding(Gateway(metadata), "http");

        Assert.Equal("$return", output.GetProperty("name").GetString());
        AssertText("Out", output, "direction");
    }

    private static JsonElement Gateway(JsonDocument metadata) => Function(metadata, GatewayFunction.Name);

    private static JsonElement Function(JsonDocument metadata, string name) =>
        Assert.Single(metadata.RootElement.EnumerateArray(), f => f.GetProperty("name").GetString() == name);

    private static JsonElement Binding(JsonElement function, string type) =>
        Assert.Single(
            function.GetProperty("bindings").EnumerateArray(),
            b => string.Equals(b.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase));

    // The host reads these values case-insensitively.
    private static void AssertText(string expected, JsonElement element, string property) =>
        Assert.Equal(expected, element.GetProperty(property).GetString(), ignoreCase: true);
}
