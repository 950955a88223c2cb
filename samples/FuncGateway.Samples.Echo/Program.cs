using FuncGateway.Samples.Echo;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// A sample upstream for the quick start: echoes every request as JSON (see EchoHandler).
//   dotnet FuncGateway.Samples.Echo.dll --urls http://127.0.0.1:5081 --Echo:Instance=echo-2
var builder = WebApplication.CreateSlimBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
}

// The gateway streams large bodies through; the echo must accept whatever it is sent.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);

// Per-request framework logs would drown the console (and slow load tests); keep warnings and the start-up lines.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

// With GatewaySignature:Keys:<id> configured, only requests the gateway signed get through (the quick start runs
// without keys, so the echo answers anyone).
var verifySignatures = builder.Configuration.GetSection("GatewaySignature:Keys").GetChildren().Any();
if (verifySignatures)
{
    builder.Services.AddGatewaySignatureVerification(builder.Configuration.GetSection("GatewaySignature"));
}

var app = builder.Build();
if (verifySignatures)
{
    app.UseGatewaySignatureVerification();
}

// Resolved on first use: the default name needs the port the server actually bound.
var instanceName = new Lazy<string>(() =>
{
    var configured = app.Configuration["Echo:Instance"];
    if (!string.IsNullOrEmpty(configured))
    {
        return configured;
    }

    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
    var port = address is null ? "unknown" : new Uri(address).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    return $"{Environment.MachineName}:{port}";
});

app.MapGet("/healthz", () => "ok");
app.Map("{**path}", context => EchoHandler.HandleAsync(context, instanceName.Value));

await app.RunAsync();
