using System.Text.Json;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Caching;

/// <summary>
/// <c>POST /_gateway/cache/purge</c> with one of <c>{"route":"id"}</c>, <c>{"prefix":"/path"}</c>,
/// <c>{"tag":"name"}</c>: 202 with the purge (and the entries dropped here); every other instance drops its matching
/// entries within one registry refresh interval.
/// </summary>
internal sealed class CachePurgeEndpoint(CachePurger purger, TimeProvider time) : IAdminEndpoint
{
    public const string InvalidPurge = "invalid_purge";
    public const string PurgeNotRecorded = "purge_not_recorded";

    private const int MaxBodyBytes = 4096;

    public string Name => "cache/purge";

    public string Method => HttpMethods.Post;

    public async Task HandleAsync(HttpContext context)
    {
        PurgeBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<PurgeBody>(new LimitedReadStream(context.Request.Body, MaxBodyBytes), RegistryJson.Options, context.RequestAborted);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            await InvalidAsync(context, "The body is not a JSON object such as {\"route\":\"orders\"}, {\"prefix\":\"/orders\"} or {\"tag\":\"product-42\"}.");
            return;
        }

        var given = new (CachePurgeKind Kind, string? Value)[] { (CachePurgeKind.Route, body?.Route), (CachePurgeKind.Prefix, body?.Prefix), (CachePurgeKind.Tag, body?.Tag) }
            .Where(static p => p.Value is not null).ToArray();
        if (given.Length != 1)
        {
            await InvalidAsync(context, "Name exactly one of route, prefix and tag.");
            return;
        }

        var purge = CachePurge.Create(given[0].Kind, given[0].Value, time.GetUtcNow(), out var error);
        if (purge is null)
        {
            await InvalidAsync(context, error!);
            return;
        }

        var (dropped, notRecorded) = await purger.PurgeAsync(purge, context.RequestAborted);
        if (notRecorded is not null)
        {
            await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, PurgeNotRecorded,
                "The purge was applied on this instance only.", notRecorded);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await context.Response.WriteAsJsonAsync(new
        {
            id = purge.Id,
            kind = purge.Kind.ToString().ToLowerInvariant(),
            value = purge.Value,
            droppedHere = dropped,
        }, context.RequestAborted);
    }

    private static Task InvalidAsync(HttpContext context, string detail) =>
        GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, InvalidPurge, "The purge request is not valid.", detail);

    private sealed record PurgeBody(string? Route, string? Prefix, string? Tag);
}
