using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FuncGateway.Diagnostics;
using FuncGateway.Forwarding;
using FuncGateway.Model;
using FuncGateway.Resilience;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Composition;

/// <summary>
/// Answers a composition route: starts every part as soon as the parts it depends on have answered (the others at
/// once, in parallel), each through the forwarding path (its pool's balancing, health gates, breakers, the route's
/// retries, the upstream-attempt span) with its own deadline; a required part that fails cancels the rest and
/// becomes the request's problem; the answers are merged by the template, or by name.
/// </summary>
internal sealed class CompositionRunner(ForwardingStep forwarding, TimeProvider time, IOptions<GatewayOptions> options, ILogger<CompositionRunner> logger)
{
    /// <summary>The span of one part (the upstream attempts are its children).</summary>
    public const string PartActivityName = "FuncGateway.CompositionPart";

    /// <summary>The response header listing the optional parts that failed.</summary>
    public const string FailedPartsHeader = "X-Composition-Failed";

    private const string PartTag = "funcgateway.composition.part";

    private static readonly JsonDocumentOptions PartJson = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    private readonly long _maxPartBytes = options.Value.Forwarding.MaxBufferedResponseBytes;

    private readonly long _maxComposedBytes = options.Value.Forwarding.MaxComposedResponseBytes;

    public async Task RespondAsync(HttpContext context, GatewayRequestFeature feature, CompositionResponder composition)
    {
        var parts = composition.Parts;
        var tasks = new Task<PartResult>[parts.Length];
        var budget = new CompositionBudget(_maxComposedBytes);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        foreach (var index in composition.Order)
        {
            tasks[index] = RunAsync(context, feature, parts, index, tasks, budget, abandon);
        }

        var results = await Task.WhenAll(tasks);
        foreach (var result in results)
        {
            feature.UpstreamAttempts += result.Attempts;
            feature.UpstreamTime += result.UpstreamTime;
        }

        context.RequestAborted.ThrowIfCancellationRequested();
        var routeId = feature.Route.Definition.Id;
        if (budget.Exceeded)
        {
            await TooLargeAsync(context, routeId, "the parts' answers together are");
            return;
        }

        if (RequiredFailure(parts, results) is { } failed)
        {
            var (part, result) = (parts[failed], results[failed]);
            CompositionLog.RequiredPartFailed(logger, routeId, part.Name, result.Reason!, result.Status);
            await GatewayProblem.WriteExtendedAsync(context,
                result.Reason == PartResult.Timeout ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                ProblemCodes.CompositionPartFailed, "A required part of the composed response failed.",
                $"Part '{part.Name}' failed: {result.Reason}.", json =>
                {
                    json.WriteString("part", part.Name);
                    json.WriteString("reason", result.Reason);
                    if (result.Reason == PartResult.BadStatus)
                    {
                        json.WriteNumber("partStatus", result.Status);
                    }
                });
            return;
        }

        var answered = new Dictionary<string, object?>(StringComparer.Ordinal);
        var partial = new JsonArray();
        var failedNames = new List<string>();
        for (var i = 0; i < parts.Length; i++)
        {
            var result = results[i];
            if (result.Succeeded)
            {
                answered[parts[i].Name] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["body"] = result.Body, ["status"] = result.Status };
                continue;
            }

            CompositionLog.OptionalPartFailed(logger, routeId, parts[i].Name, result.Reason!, result.Status);
            failedNames.Add(parts[i].Name);
            var item = new JsonObject { ["part"] = parts[i].Name, ["reason"] = result.Reason };
            if (result.Reason == PartResult.BadStatus)
            {
                item["status"] = result.Status;
            }

            partial.Add(item);
        }

        JsonNode? merged;
        if (composition.Template is { } template)
        {
            merged = template.Render(null, context, feature, null, new Dictionary<string, object?> { ["parts"] = answered }, out var error);
            if (error is not null)
            {
                CompositionLog.TemplateFailed(logger, routeId, error);
                await GatewayProblem.WriteAsync(context, StatusCodes.Status502BadGateway, ProblemCodes.ResponseTransformFailed,
                    "The composed response could not be made.", "The route's composition template failed.");
                return;
            }
        }
        else
        {
            var byName = new JsonObject();
            foreach (var (name, value) in answered)
            {
                byName[name] = ToNode(((Dictionary<string, object?>)value!)["body"]);
            }

            merged = byName;
        }

        if (partial.Count > 0 && merged is JsonObject root)
        {
            root[CompositionFormat.PartialMember] = new JsonObject { ["failed"] = partial };
        }

        // Written without the serializer's depth limit of 64: a part's answer may nest that deep, one level down. A text
        // answer grows up to six times as a JSON string ("<" is "\u003C"): the composed body has the bound too.
        var bytes = new BoundedBufferWriter(_maxComposedBytes);
        try
        {
            using var writer = new Utf8JsonWriter(bytes);
            if (merged is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                merged.WriteTo(writer);
            }
        }
        catch (IOException) when (bytes.Exceeded)
        {
            await TooLargeAsync(context, routeId, "the composed body is");
            return;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        if (failedNames.Count > 0)
        {
            response.Headers[FailedPartsHeader] = string.Join(", ", failedNames);
        }

        if (IsForOneCaller(context.Request, feature))
        {
            response.Headers.CacheControl = "private";
        }

        response.ContentLength = bytes.WrittenCount;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(bytes.WrittenMemory, context.RequestAborted);
        }
    }

    private Task TooLargeAsync(HttpContext context, string routeId, string what)
    {
        CompositionLog.TooLarge(logger, routeId, what, _maxComposedBytes);
        return GatewayProblem.WriteExtendedAsync(context, StatusCodes.Status502BadGateway, ProblemCodes.CompositionTooLarge,
            "The composed response is too large.", $"On this route, {what} over {_maxComposedBytes} bytes.",
            json => json.WriteNumber("maxBytes", _maxComposedBytes));
    }

    /// <summary>
    /// Whether the composed answer is this caller's alone: the caller is authenticated (every part carries its
    /// identity), or sent credentials the parts pass on (an anonymous route's parts get the client's
    /// <c>Authorization</c> and <c>Cookie</c>). Such a response is <c>Cache-Control: private</c>, so that no shared
    /// cache in front of the gateway (a CDN, Front Door) serves it to another client.
    /// </summary>
    private static bool IsForOneCaller(HttpRequest request, GatewayRequestFeature feature) =>
        feature.Identity is not null || request.Headers.ContainsKey(HeaderNames.Authorization)
        || request.Headers.ContainsKey(HeaderNames.Cookie) || request.Headers.ContainsKey(HeaderNames.ProxyAuthorization);

    /// <summary>The required part whose failure is the request's answer: a cause rather than a consequence (canceled, dependency failed) when there is one.</summary>
    private static int? RequiredFailure(CompiledPart[] parts, PartResult[] results)
    {
        int? consequence = null;
        for (var i = 0; i < parts.Length; i++)
        {
            if (!parts[i].Required || results[i].Succeeded)
            {
                continue;
            }

            if (results[i].Reason is not (PartResult.Canceled or PartResult.DependencyFailed))
            {
                return i;
            }

            consequence ??= i;
        }

        return consequence;
    }

    private static JsonNode? ToNode(object? body) => body switch
    {
        JsonNode node => node.DeepClone(),
        string text => JsonValue.Create(text),
        _ => null,
    };

    private async Task<PartResult> RunAsync(
        HttpContext context, GatewayRequestFeature feature, CompiledPart[] parts, int index, Task<PartResult>[] tasks, CompositionBudget budget, CancellationTokenSource abandon)
    {
        // Every part runs after those it depends on (the tasks are started in that order).
        var part = parts[index];
        PartResult result;
        var dependencies = new Dictionary<string, PartResult>(StringComparer.OrdinalIgnoreCase);
        foreach (var dependency in part.DependsOn)
        {
            dependencies[parts[dependency].Name] = await tasks[dependency];
        }

        if (dependencies.Values.Any(static d => !d.Succeeded))
        {
            result = PartResult.Failed(PartResult.DependencyFailed);
        }
        else if (abandon.IsCancellationRequested)
        {
            result = PartResult.Failed(PartResult.Canceled);
        }
        else
        {
            result = await SendAsync(context, feature, part, dependencies, budget, abandon.Token);
        }

        if (!result.Succeeded && (part.Required || budget.Exceeded))
        {
            // Nothing the other parts answer can be used now: stop them.
            await abandon.CancelAsync();
        }

        return result;
    }

    private async Task<PartResult> SendAsync(
        HttpContext context, GatewayRequestFeature feature, CompiledPart part, Dictionary<string, PartResult> dependencies, CompositionBudget budget, CancellationToken abandon)
    {
        var target = part.Path.Render(feature.RouteValues, context.Request.Query, name => dependencies[name], out var failure);
        if (target is null)
        {
            return PartResult.Failed(failure!);
        }

        using var span = GatewayTelemetry.StartChild(PartActivityName);
        span?.SetTag(PartTag, part.Name);
        using var deadline = new CancellationTokenSource(part.Timeout, time);
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(abandon, deadline.Token);
        await using var buffer = new PartBuffer(_maxPartBytes, budget);
        var partContext = PartRequest.Create(context, feature, part.Route, part.Method, target, buffer, aborted.Token);
        var partFeature = partContext.Features.Get<GatewayRequestFeature>()!;
        PartResult result;
        try
        {
            var (attempt, outcome) = await forwarding.SendAsync(partContext, partFeature);
            result = Classify(partContext, attempt, outcome, buffer, deadline.IsCancellationRequested, abandon.IsCancellationRequested);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            result = PartResult.Failed(deadline.IsCancellationRequested ? PartResult.Timeout : PartResult.Canceled);
        }
#pragma warning disable CA1031 // One part's unexpected failure is that part's failure, never the whole request's crash.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CompositionLog.PartException(logger, feature.Route.Definition.Id, part.Name, ex);
            result = PartResult.Failed(PartResult.Error);
        }

        if (span is not null && !result.Succeeded)
        {
            span.SetTag(GatewayTelemetry.ErrorTypeTag, result.Reason);
            span.SetStatus(ActivityStatusCode.Error);
        }

        return result with { Attempts = partFeature.UpstreamAttempts, UpstreamTime = partFeature.UpstreamTime };
    }

    private static PartResult Classify(HttpContext partContext, ForwardAttempt attempt, AttemptResult result, PartBuffer buffer, bool timedOut, bool abandoned)
    {
        if (buffer.Exceeded)
        {
            return PartResult.Failed(PartResult.TooLarge);
        }

        if (result.Outcome == AttemptOutcome.NoInstance && attempt.LastSent is { } sent)
        {
            result = sent;
        }

        var status = partContext.Response.StatusCode;
        var unreachable = ForwardAttempt.IsUnreachable(result.Error, partContext.Features.Get<IForwarderErrorFeature>()?.Exception);
        return result.Outcome switch
        {
            AttemptOutcome.NoInstance => PartResult.Failed(PartResult.NoInstance),
            AttemptOutcome.HeldBack => PartResult.Failed(PartResult.BadStatus, attempt.HeldBackStatus ?? 0),
            _ when result.Error == ForwarderError.None => status is >= 200 and < 300
                ? new PartResult(status, Body(partContext.Response.ContentType, buffer), null)
                : PartResult.Failed(PartResult.BadStatus, status),
            _ when timedOut || (result.Error == ForwarderError.RequestTimedOut && !unreachable) => PartResult.Failed(PartResult.Timeout),
            _ when abandoned => PartResult.Failed(PartResult.Canceled),
            _ when unreachable => PartResult.Failed(PartResult.Unreachable),
            _ => PartResult.Failed(PartResult.Error),
        };
    }

    /// <summary>A JSON answer (a JSON media type, or none) parsed; anything else, or JSON that does not parse, as text; an empty body as null.</summary>
    private static object? Body(string? contentType, PartBuffer buffer)
    {
        if (buffer.Length == 0)
        {
            return null;
        }

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (IsJson(contentType))
        {
            try
            {
                // A repeated member or a lone surrogate escape parses by default, then fails whoever reads or writes it.
                if (!HasLoneSurrogate(bytes.Span))
                {
                    return JsonNode.Parse(bytes.Span, documentOptions: PartJson);
                }
            }
            catch (JsonException)
            {
                // Labelled JSON but not JSON: the text is all there is.
            }
        }

        return Encoding.UTF8.GetString(bytes.Span);
    }

    /// <summary>Whether a string of the JSON text escapes half a surrogate pair (<c>"\ud800"</c>), which no reader can turn into text.</summary>
    private static bool HasLoneSurrogate(ReadOnlySpan<byte> json)
    {
        // Only an escape can: raw UTF-8 cannot encode a surrogate, and the reader refuses bytes that try.
        if (json.IndexOf("\\u"u8) < 0)
        {
            return false;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = PartJson.MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                try
                {
                    reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }

        var media = contentType.Split(';')[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }
}
