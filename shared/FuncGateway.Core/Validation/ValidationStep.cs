using System.Buffers;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Validation;

/// <summary>
/// Checks a request against its route's <c>Validation</c> after authentication and rate limits, before anything is
/// sent upstream: 415 for a body media type the route does not take, 413 for a body over the route's limit, 400
/// <c>validation_failed</c> listing every broken rule (query and header rules, repeated parameters, JSON limits, the
/// schema, injection signatures). A JSON body the route checks is buffered up to the route's limit, then forwarded
/// from the buffer with its exact <c>Content-Length</c>; other bodies are never read here and keep streaming.
/// </summary>
internal sealed class ValidationStep(ILogger<ValidationStep> logger) : IGatewayStep
{
    public GatewayStepOrder Order => GatewayStepOrder.Validation;

    public string ActivityName => GatewayTelemetry.ValidationActivityName;

    public bool AppliesTo(CompiledRoute route) => route.GetFeature<RouteValidation>() is not null;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var validation = feature.Route.GetFeature<RouteValidation>();
        if (validation is null)
        {
            return true;
        }

        // Forwarding enforces the limit on bodies this step does not read (it streams them).
        if (validation.MaxBodyBytes is { } max)
        {
            feature.MaxRequestBodySizeBytes = max;
        }

        var request = context.Request;
        var routeId = feature.Route.Definition.Id;
        var hasBody = HasBody(context);
        var isJson = false;
        if (hasBody && !validation.AcceptsContentType(request.ContentType, out isJson))
        {
            ValidationLog.UnsupportedMediaType(logger, routeId, StatusCodes.Status415UnsupportedMediaType);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, ValidationProblems.UnsupportedMediaType,
                "The route does not accept this media type.", "Accepted: " + string.Join(", ", validation.ContentTypes.Select(static t => t.ToString())) + ".");
            return false;
        }

        var violations = new ViolationList();
        CheckParameters(request, validation, violations);
        if (validation.Injection is { } screen)
        {
            Screen(request, screen, violations);
        }

        if (hasBody && isJson && validation.ValidatesJsonBodies)
        {
            var limit = validation.BufferLimit;
            if (request.ContentLength > limit)
            {
                await GatewayProblem.RequestTooLargeAsync(context, limit);
                return false;
            }

            var (body, length, failure) = await ReadBodyAsync(context, limit);
            if (failure is not null)
            {
                await failure(context, limit);
                return false;
            }

            JsonBodyCheck.Check(body.AsMemory(0, length), validation, violations);

            // The upstream gets the very bytes that were checked, with their exact length.
            request.Body = new MemoryStream(body, 0, length, writable: false);
            request.ContentLength = length;
            request.Headers.Remove(HeaderNames.TransferEncoding);
        }
        else if (!hasBody && validation.Schema is not null && (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method)))
        {
            violations.Add("body", "", "required", $"A JSON body is required (schema '{validation.SchemaName}').");
        }

        if (violations.Count == 0)
        {
            return true;
        }

        var first = violations.Items[0];
        ValidationLog.Refused(logger, routeId, violations.Count, first.In, first.Rule);
        await GatewayProblem.WriteExtendedAsync(context, StatusCodes.Status400BadRequest, ValidationProblems.ValidationFailed,
            "The request does not satisfy the route's validation rules.", $"{violations.Count} violation(s); see violations.", violations.WriteTo);
        return false;
    }

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>() is { } detection
            ? detection.CanHaveBody
            : context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey(HeaderNames.TransferEncoding);

    private static void CheckParameters(HttpRequest request, RouteValidation validation, ViolationList violations)
    {
        if (validation.RejectRepeated)
        {
            foreach (var (name, values) in request.Query)
            {
                if (values.Count > 1)
                {
                    violations.Add("query", name, "repeated", $"The parameter is given {values.Count} times; the route accepts it once.");
                }
            }
        }

        foreach (var rule in validation.Query)
        {
            Check("query", rule, request.Query.TryGetValue(rule.Name, out var values) ? values : default, validation.RejectRepeated, violations);
        }

        foreach (var rule in validation.Headers)
        {
            Check("header", rule, request.Headers.TryGetValue(rule.Name, out var values) ? values : default, validation.RejectRepeated, violations);
        }
    }

    private static void Check(string where, ParameterRule rule, Microsoft.Extensions.Primitives.StringValues values, bool rejectRepeated, ViolationList violations)
    {
        if (values.Count == 0)
        {
            if (rule.Required)
            {
                violations.Add(where, rule.Name, "required", $"The {(where == "query" ? "parameter" : "header")} is required.");
            }

            return;
        }

        if (where == "header" && rejectRepeated && values.Count > 1)
        {
            violations.Add(where, rule.Name, "repeated", $"The header is given {values.Count} times; the route accepts it once.");
        }

        foreach (var value in values)
        {
            if (rule.Check(value ?? "") is { } broken)
            {
                violations.Add(where, rule.Name, broken.Rule, broken.Message);
                return;
            }
        }
    }

    private static void Screen(HttpRequest request, InjectionScreen screen, ViolationList violations)
    {
        screen.ScreenPath(request.Path.Value ?? "", violations);
        foreach (var (name, values) in request.Query)
        {
            foreach (var value in values)
            {
                screen.ScreenQuery(name, value ?? "", violations);
            }
        }

        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                screen.ScreenHeader(name, value ?? "", violations);
            }
        }
    }

    /// <summary>
    /// Reads the body into one pooled array of at most <paramref name="limit"/> bytes, given back to the pool when the
    /// response has completed (the forwarded body is read from it until then). A body that turns out longer, or that
    /// the server could not read, yields the problem to answer with instead.
    /// </summary>
    private static async Task<(byte[] Body, int Length, Func<HttpContext, long, Task>? Failure)> ReadBodyAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // One byte over the limit is what tells an oversized chunked body apart; the server cuts anything beyond.
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        var pooled = new PooledBuffer((int)Math.Max(1, Math.Min(request.ContentLength ?? 16 * 1024, limit + 1)));
        context.Response.RegisterForDispose(pooled);
        var capacity = (int)Math.Min(pooled.Array.Length, limit + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == capacity)
                {
                    if (length > limit)
                    {
                        return ([], 0, GatewayProblem.RequestTooLargeAsync);
                    }

                    capacity = pooled.Grow(length, (int)Math.Min(limit + 1, capacity * 2L));
                }

                var read = await request.Body.ReadAsync(pooled.Array.AsMemory(length, capacity - length), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ([], 0, GatewayProblem.RequestTooLargeAsync);
        }
        catch (BadHttpRequestException)
        {
            return ([], 0, static (c, _) => GatewayProblem.WriteAsync(c, StatusCodes.Status400BadRequest, ProblemCodes.BadRequest, "The request body could not be read from the client."));
        }

        return length > limit ? ([], 0, GatewayProblem.RequestTooLargeAsync) : (pooled.Array, length, null);
    }

    /// <summary>A request body's buffer, rented from the shared pool and returned once, when the response completes.</summary>
    private sealed class PooledBuffer(int size) : IDisposable
    {
        public byte[] Array { get; private set; } = ArrayPool<byte>.Shared.Rent(size);

        /// <summary>Moves the first <paramref name="used"/> bytes to a larger array; returns the capacity to use.</summary>
        public int Grow(int used, int size)
        {
            var larger = ArrayPool<byte>.Shared.Rent(size);
            Array.AsSpan(0, used).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(Array);
            Array = larger;
            return Math.Min(larger.Length, size);
        }

        public void Dispose()
        {
            if (Array.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(Array);
                Array = [];
            }
        }
    }
}
