using System.Text.Json;
using FuncGateway.Server.Tests.Discovery;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Admin;

/// <summary><c>GET /_gateway/status</c> while the registry read waits on storage that does not answer.</summary>
[Collection("Azurite")]
public sealed class StatusWhileStorageHangsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Status_names_a_registry_read_that_storage_has_not_answered_yet()
    {
        await using var proxy = StorageFaultProxy.Start(azurite.Azurite);
        await using var gateway = await GatewayHost.StartAsync(proxy.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Registry:RefreshIntervalSeconds"] = "1",

            // Long enough that the hanging read is seen while it hangs, however loaded the machine.
            ["FuncGateway:Registry:ReadTimeoutSeconds"] = "60",
        });

        await Waiting.UntilAsync(
            async () => (await gateway.AdminGetAsync("status")).GetProperty("lastSuccessAt").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(30), "the first read");

        // Storage stops answering. Before, status went on showing the last attempt, a success, and no error until the
        // read timed out: an operator could not tell a gateway reading normally from one stuck on storage.
        proxy.Hang();
        var hungAt = DateTimeOffset.UtcNow;
        JsonElement status = default;
        await Waiting.UntilAsync(
            async () => (status = await gateway.AdminGetAsync("status")).GetProperty("readingSince").ValueKind == JsonValueKind.String
                        && status.GetProperty("readingSince").GetDateTimeOffset() >= hungAt,
            TimeSpan.FromSeconds(30), "status to show the read waiting on storage");
        Assert.Equal(JsonValueKind.Null, status.GetProperty("lastError").ValueKind);
        Assert.True(status.GetProperty("readingSince").GetDateTimeOffset() > status.GetProperty("lastAttemptAt").GetDateTimeOffset());

        // Storage answers again: the read ends (failed, cut off by the switch), the next one succeeds and nothing is pending.
        proxy.Pass();
        await Waiting.UntilAsync(
            async () => (status = await gateway.AdminGetAsync("status")).GetProperty("lastSuccessAt").GetDateTimeOffset() > hungAt
                        && status.GetProperty("readingSince").ValueKind == JsonValueKind.Null,
            TimeSpan.FromSeconds(30), "the reads to succeed again");
    }
}
