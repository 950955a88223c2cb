using System.Globalization;
using System.Net;
using FuncGateway.Server.Tests.Cors;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace FuncGateway.Server.Tests.Dashboard;

/// <summary>
/// The dashboard as an operator sees it: headless Chromium (Playwright, Debian's <c>chromium</c>) opens
/// <c>/_gateway/dashboard</c> on a running gateway with traffic, enters the admin key, and watches the page refresh
/// itself: the request counter moves, a rejected row is listed with its reason (as text, even when it looks like
/// markup), a route turns red when its upstream dies, and a rate-limit policy's decisions are counted. The page runs under its strict Content-Security-Policy; a
/// violation would show in the console and fail the test. A screenshot is saved to
/// <c>TestResults/dashboard/dashboard.png</c> at the repository root.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DashboardBrowserTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const string MarkupRow = "<img src=x onerror=window.pwned=1>";

    [SkippableFact]
    public async Task An_operator_sees_traffic_a_rejected_row_and_a_route_turning_red_when_its_upstream_dies()
    {
        if (Chromium.Path is null)
        {
            Assert.False(Chromium.Required, Chromium.Missing);
            Skip.If(true, Chromium.Missing);
        }

        await using var alpha = await TestUpstream.StartAsync("alpha");
        var beta = await TestUpstream.StartAsync("beta");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:RateLimits:Policies:two:Limit"] = "2",
            ["FuncGateway:RateLimits:Policies:two:WindowSeconds"] = "3600",
            ["FuncGateway:RateLimits:Policies:two:Mode"] = "Strict",
        });
        try
        {
            await gateway.UpsertRouteAsync("alpha", "/alpha/{**rest}", alpha.BaseAddress.ToString());
            await gateway.UpsertRouteAsync("beta", "/beta/{**rest}", beta.BaseAddress.ToString());
            await gateway.UpsertRouteAsync("limited", "/limited", alpha.BaseAddress.ToString(), ("RateLimit", "two"));
            await gateway.UpsertRouteAsync("broken", "/broken", alpha.BaseAddress.ToString(), ("Methods", "FETCH IT"));
            await gateway.UpsertRouteAsync(MarkupRow, "/markup", alpha.BaseAddress.ToString(), ("Methods", "NOT A METHOD"));
            await gateway.ReloadAsync();
            var reasons = await gateway.RejectedReasonsAsync();
            Assert.Equal([MarkupRow, "broken"], reasons.Keys.Order(StringComparer.Ordinal));

            await SendAsync(gateway, "/alpha/1", 3, HttpStatusCode.OK);
            await SendAsync(gateway, "/beta/1", 3, HttpStatusCode.OK);

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium.Path, Headless = true, Args = ["--no-sandbox"] });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
            var cspViolations = new List<string>();
            page.Console += (_, message) =>
            {
                if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                {
                    cspViolations.Add(message.Text);
                }
            };

            // 1. The page asks for the key; nothing is shown before it is given.
            var dashboardUrl = gateway.Client.BaseAddress + "_gateway/dashboard";
            await page.GotoAsync(dashboardUrl);
            await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#main")).ToBeHiddenAsync();

            // A wrong key is refused and the page says so.
            await page.FillAsync("#key", "not-the-key");
            await page.ClickAsync("#key-form button[type=submit]");
            await Assertions.Expect(page.Locator("#login-message")).ToHaveTextAsync("The admin key was refused.");

            await page.FillAsync("#key", GatewayHost.AdminKey);
            await page.ClickAsync("#key-form button[type=submit]");
            var alphaRow = page.Locator("#routes tr[data-route=alpha]");
            var betaRow = page.Locator("#routes tr[data-route=beta]");
            await Assertions.Expect(alphaRow).ToBeVisibleAsync();
            Assert.DoesNotContain(GatewayHost.AdminKey, page.Url, StringComparison.Ordinal);
            // The key is in the page's memory only: a proxied page of the same origin finds nothing in the tab's storage.
            Assert.Equal(0, await page.EvaluateAsync<int>("() => sessionStorage.length + localStorage.length"));

            // 2. Both routes are green with their requests counted.
            await Assertions.Expect(alphaRow).ToHaveClassAsync("route status-ok");
            await Assertions.Expect(betaRow).ToHaveClassAsync("route status-ok");
            await Assertions.Expect(page.Locator("#total-requests")).ToHaveTextAsync("6");
            await Assertions.Expect(alphaRow.Locator("td.requests")).ToHaveTextAsync("3");

            // 3. The rejected rows are listed with their reasons, as text: the markup-looking row key is not markup.
            var brokenReasons = page.Locator("#rejected tr[data-row=broken] td.reasons");
            await Assertions.Expect(brokenReasons).ToHaveTextAsync(reasons["broken"]);
            var markupRow = page.Locator("#rejected tbody tr").Filter(new() { HasText = MarkupRow });
            await Assertions.Expect(markupRow.Locator("td.id")).ToHaveTextAsync(MarkupRow);
            Assert.Equal(0, await page.Locator("#rejected img").CountAsync());
            Assert.False(await page.EvaluateAsync<bool>("() => window.pwned === 1"));

            // 4. The counter moves with traffic, without reloading the page.
            await SendAsync(gateway, "/alpha/2", 5, HttpStatusCode.OK);
            await Assertions.Expect(page.Locator("#total-requests")).ToHaveTextAsync("11");
            await Assertions.Expect(alphaRow.Locator("td.requests")).ToHaveTextAsync("8");

            // 5. Beta's upstream dies: its requests fail with 502 and its row turns red; alpha stays green.
            await beta.DisposeAsync();
            await SendAsync(gateway, "/beta/2", 3, HttpStatusCode.BadGateway);
            await Assertions.Expect(betaRow).ToHaveClassAsync("route status-down");
            await Assertions.Expect(betaRow.Locator("td.status")).ToHaveTextAsync("down");
            await Assertions.Expect(betaRow.Locator("td.status")).ToHaveCSSAsync("color", "rgb(207, 34, 46)");
            await Assertions.Expect(betaRow.Locator("td.errors")).ToHaveTextAsync("3");
            await Assertions.Expect(alphaRow).ToHaveClassAsync("route status-ok");
            await Assertions.Expect(page.Locator("#routes-down")).ToHaveTextAsync("1");

            // 6. A rate-limit policy's decisions show as they are made.
            var policyRow = page.Locator("#rate-limits tr[data-policy=two]");
            await Assertions.Expect(policyRow).ToBeVisibleAsync();
            await SendAsync(gateway, "/limited", 2, HttpStatusCode.OK);
            await SendAsync(gateway, "/limited", 1, HttpStatusCode.TooManyRequests);
            await Assertions.Expect(policyRow.Locator("td:nth-child(7)")).ToHaveTextAsync("2");
            await Assertions.Expect(policyRow.Locator("td:nth-child(8)")).ToHaveTextAsync("1");

            var screenshot = RepositoryRoot.Combine("TestResults/dashboard/dashboard.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
            output.WriteLine("Screenshot: " + screenshot);

            Assert.Empty(cspViolations);
        }
        finally
        {
            await beta.DisposeAsync();
        }
    }

    private static async Task SendAsync(GatewayHost gateway, string path, int count, HttpStatusCode expected)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await gateway.Client.GetAsync(path);
            Assert.True(response.StatusCode == expected, string.Create(CultureInfo.InvariantCulture, $"{path}: {response.StatusCode}, expected {expected}"));
        }
    }
}
