using System.Net.Mime;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FuncGateway.Functions.Tests;

/// <summary>The function invoked directly, as the worker would, with the app's own services.</summary>
public sealed class GatewayFunctionTests : IDisposable
{
    private readonly IHost _host = FunctionsAppHost.Build();

    [Fact]
    public async Task The_core_answers_the_request_and_the_function_returns_an_empty_result()
    {
        using var invocation = _host.Services.CreateScope();
        var context = NewRequest(invocation.ServiceProvider, HttpMethods.Get, "/orders/42");
        var function = ActivatorUtilities.CreateInstance<GatewayFunction>(invocation.ServiceProvider);

        var result = await function.RunAsync(context.Request);

        Assert.IsType<EmptyResult>(result);
        // No storage is configured, so the core has no route snapshot and fails closed.
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        if (context.Response.ContentType is { } contentType)
        {
            Assert.StartsWith(MediaTypeNames.Application.ProblemJson, contentType, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Executing_the_returned_result_leaves_the_core_response_as_written()
    {
        // After the function returns, the worker executes its IActionResult against the same response.
        using var invocation = _host.Services.CreateScope();
        var context = NewRequest(invocation.ServiceProvider, HttpMethods.Post, "/orders");
        var function = ActivatorUtilities.CreateInstance<GatewayFunction>(invocation.ServiceProvider);

        var result = await function.RunAsync(context.Request);
        var status = context.Response.StatusCode;
        var headers = context.Response.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var body = ((MemoryStream)context.Response.Body).ToArray();

        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));

        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal(headers, context.Response.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        Assert.Equal(body, ((MemoryStream)context.Response.Body).ToArray());
    }

    public void Dispose() => _host.Dispose();

    private static DefaultHttpContext NewRequest(IServiceProvider services, string method, string path)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("gateway.example");
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        return context;
    }
}
