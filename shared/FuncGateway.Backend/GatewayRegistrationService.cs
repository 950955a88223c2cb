using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Backend;

/// <summary>
/// Registers the upstream with the gateway once the server listens, renews the lease every third of it (retrying a
/// failed renewal at the same pace), and deregisters when the host begins a graceful shutdown, before the server
/// stops taking requests. A failure is logged and never stops the application.
/// </summary>
internal sealed partial class GatewayRegistrationService(
    IOptions<GatewayRegistrationOptions> options, IServer server, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<GatewayRegistrationService> logger)
    : BackgroundService
{
    private readonly GatewayRegistrationOptions _options = options.Value;
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private Uri? _registration;
    private Task _deregistration = Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await StartedAsync(stoppingToken))
        {
            return;
        }

        var url = InstanceUrl();
        var id = _options.InstanceId ?? InstanceIdFor(url);
        _registration = new Uri(_options.GatewayUrl!, $"_gateway/pools/{Uri.EscapeDataString(_options.Pool!)}/instances/{Uri.EscapeDataString(id)}");
        lifetime.ApplicationStopping.Register(() => _deregistration = DeregisterAsync());
        var body = new { url = url.ToString().TrimEnd('/'), weight = _options.Weight, leaseSeconds = _options.LeaseSeconds };
        var renew = TimeSpan.FromSeconds(Math.Max(1, _options.LeaseSeconds / 3.0));
        var registered = false;
        while (!stoppingToken.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested)
        {
            try
            {
                using var request = Request(HttpMethod.Put);
                request.Content = JsonContent.Create(body);
                using var response = await _client.SendAsync(request, stoppingToken);
                if (response.IsSuccessStatusCode)
                {
                    if (!registered)
                    {
                        LogRegistered(logger, _options.Pool!, id, body.url);
                    }

                    registered = true;
                }
                else
                {
                    registered = false;
                    LogRefused(logger, _options.Pool!, (int)response.StatusCode, await response.Content.ReadAsStringAsync(stoppingToken));
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                registered = false;
                LogUnreachable(logger, _options.Pool!, ex.Message);
            }

            try
            {
                await Task.Delay(renew, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _deregistration.WaitAsync(_options.DeregisterTimeout, time, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
        _client.Dispose();
    }

    private async Task DeregisterAsync()
    {
        if (_registration is null)
        {
            return;
        }

        try
        {
            using var request = Request(HttpMethod.Delete);
            using var timeout = new CancellationTokenSource(_options.DeregisterTimeout, time);
            using var response = await _client.SendAsync(request, timeout.Token);
            LogDeregistered(logger, _options.Pool!, (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            LogUnreachable(logger, _options.Pool!, ex.Message);
        }
    }

    /// <summary>Waits until the server listens (its addresses are known); false when the host stops first.</summary>
    private async Task<bool> StartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled());
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private HttpRequestMessage Request(HttpMethod method)
    {
        var request = new HttpRequestMessage(method, _registration);
        request.Headers.Add("X-Admin-Key", _options.AdminKey);
        return request;
    }

    private Uri InstanceUrl()
    {
        if (_options.InstanceUrl is { } configured)
        {
            return configured;
        }

        foreach (var address in server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            if (Uri.TryCreate(address.Replace("://+", "://wildcard", StringComparison.Ordinal).Replace("://*", "://wildcard", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                && uri.Host is not ("wildcard" or "0.0.0.0" or "[::]"))
            {
                return uri;
            }
        }

        throw new InvalidOperationException("GatewayRegistrationOptions.InstanceUrl is not set and the server listens on no specific address: set it to the URL the gateway should forward to.");
    }

    private static string InstanceIdFor(Uri url)
    {
        var name = new string([.. Environment.MachineName.Select(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);
        return string.Create(CultureInfo.InvariantCulture, $"{name}-{url.Port}");
    }

    [LoggerMessage(1, LogLevel.Information, "Registered with the gateway in pool '{Pool}' as '{Id}' at {Url}.")]
    private static partial void LogRegistered(ILogger logger, string pool, string id, string url);

    [LoggerMessage(2, LogLevel.Warning, "The gateway refused the registration in pool '{Pool}': {Status} {Body}")]
    private static partial void LogRefused(ILogger logger, string pool, int status, string body);

    [LoggerMessage(3, LogLevel.Warning, "The gateway could not be reached to register in pool '{Pool}': {Error}")]
    private static partial void LogUnreachable(ILogger logger, string pool, string error);

    [LoggerMessage(4, LogLevel.Information, "Deregistered from pool '{Pool}' ({Status}).")]
    private static partial void LogDeregistered(ILogger logger, string pool, int status);
}
