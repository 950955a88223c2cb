using System.Security.Cryptography;
using System.Text.Json;
using FuncGateway.Admin;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncGateway.Dashboard;

/// <summary>
/// The dashboard under the admin prefix. The page and its script and style sheet (embedded in this assembly, no CDN)
/// hold no data and are served without the admin key, because a browser's navigation cannot send a header; the page
/// asks for the key, keeps it in its script's memory only and sends it in <c>X-Admin-Key</c> with every call to
/// <c>dashboard/data</c>, which requires it like every admin endpoint. The key never appears in a URL. Every response
/// carries, as every admin response does (<see cref="AdminPagePolicy"/>), a strict Content-Security-Policy (no inline script
/// or style), <c>nosniff</c> and frame denial.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>The page's path below the admin prefix.</summary>
    public const string PageName = "dashboard";

    /// <summary>
    /// Registers the dashboard: the page, its script and style sheet, the data, and the traffic windows behind it
    /// (recording only while an admin key is configured).
    /// </summary>
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton(static sp =>
        {
            var key = sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Admin.Key;
            var enabled = !string.IsNullOrWhiteSpace(key) && !AdminKeys.IsUnresolvedKeyVaultReference(key);
            return new DashboardTraffic(sp.GetRequiredService<GatewayTelemetry>(), sp.GetRequiredService<TimeProvider>(), enabled);
        });
        services.AddHostedService(static sp => sp.GetRequiredService<DashboardTraffic>());
        services.AddSingleton<DashboardData>();
        services.AddSingleton<IAdminEndpoint>(static _ => DashboardAsset.Load(PageName, "index.html", "text/html; charset=utf-8"));
        services.AddSingleton<IAdminEndpoint>(static _ => DashboardAsset.Load(PageName + "/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"));
        services.AddSingleton<IAdminEndpoint>(static _ => DashboardAsset.Load(PageName + "/dashboard.css", "dashboard.css", "text/css; charset=utf-8"));
        services.AddSingleton<IAdminEndpoint, DashboardDataEndpoint>();
    }
}

/// <summary>One embedded file of the dashboard, read once; revalidated by ETag, never cached without asking.</summary>
internal sealed class DashboardAsset : IAdminEndpoint
{
    private readonly byte[] _content;
    private readonly string _contentType;
    private readonly string _etag;

    private DashboardAsset(string name, byte[] content, string contentType)
    {
        Name = name;
        _content = content;
        _contentType = contentType;
        _etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8)) + "\"";
    }

    public string Name { get; }

    public string Method => HttpMethods.Get;

    public bool AllowsAnonymous => true;

    public static DashboardAsset Load(string name, string file, string contentType)
    {
        using var stream = typeof(DashboardAsset).Assembly.GetManifestResourceStream("FuncGateway.Dashboard." + file)
            ?? throw new InvalidOperationException($"The dashboard asset '{file}' is not embedded in the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new DashboardAsset(name, copy.ToArray(), contentType);
    }

    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        // The policy headers come from the admin surface, on every admin response (AdminPagePolicy).
        response.Headers.CacheControl = "no-cache";
        response.Headers.ETag = _etag;
        if (context.Request.Headers.IfNoneMatch.ToString() == _etag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = _contentType;
        response.ContentLength = _content.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(_content, context.RequestAborted).AsTask();
    }
}

/// <summary><c>GET /_gateway/dashboard/data</c>: what the page shows, as JSON (<see cref="DashboardData"/>); admin key required.</summary>
internal sealed class DashboardDataEndpoint(DashboardData data) : IAdminEndpoint
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Name => DashboardEndpoints.PageName + "/data";

    public string Method => HttpMethods.Get;

    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.ContentType = "application/json; charset=utf-8";
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : JsonSerializer.SerializeAsync(response.Body, data.Build(), Json, context.RequestAborted);
    }
}
