using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Authentication.Basic;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

[Collection(AzuriteCollection.Name)]
public sealed class KeysCommandTests(AzuriteFixture fixture) : IDisposable
{
    private readonly CliHarness _cli = new(fixture);

    private TableClient KeysTable => new TableServiceClient(_cli.ConnectionString).GetTableClient(ApiKeyFormat.TableName(_cli.Prefix));

    private static (string KeyId, string Key) Parse(CliResult result)
    {
        var id = result.StdoutLines.Single(l => l.StartsWith("key-id: ", StringComparison.Ordinal))["key-id: ".Length..];
        var key = result.StdoutLines.Single(l => l.StartsWith("key: ", StringComparison.Ordinal))["key: ".Length..];
        return (id, key);
    }

    [Fact]
    public async Task Create_prints_the_key_once_and_stores_only_its_hash()
    {
        var result = await _cli.RunAsync("keys", "create", "--consumer", "acme", "--name", "acme prod", "--tier", "gold", "--scopes", "orders.read,orders.write", "--expires", "90d");

        Assert.True(result.ExitCode == 0, result.ToString());
        var (keyId, key) = Parse(result);
        Assert.True(ApiKeyFormat.IsWellFormed(key));
        Assert.Matches("^k-[0-9a-f]{12}$", keyId);

        var entity = Assert.Single(await CliHarness.ReadAsync(KeysTable));
        Assert.Equal(ApiKeyFormat.Hash(key), entity.RowKey);
        Assert.Equal(entity.RowKey[..2], entity.PartitionKey);
        Assert.DoesNotContain(entity, p => p.Value is string s && s.Contains(key, StringComparison.Ordinal));
        var record = ApiKeyFormat.FromEntity(entity)!;
        Assert.Equal(("acme", "acme prod", "gold", keyId, true), (record.ConsumerId, record.Name, record.Tier, record.KeyId, record.Enabled));
        Assert.Equal(["orders.read", "orders.write"], record.Scopes);
        Assert.InRange(record.ExpiresAt!.Value, TimeProvider.System.GetUtcNow().AddDays(89), TimeProvider.System.GetUtcNow().AddDays(91));

        var list = await _cli.RunAsync("keys", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches($@"^{keyId}\s+acme\s+acme prod\s+gold\s+orders.read,orders.write\s+active\s+", list.StdoutLines[1]);
        Assert.DoesNotContain(key, list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(entity.RowKey, list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoke_disables_the_key_and_rotate_replaces_it_with_a_grace_period()
    {
        var (first, firstKey) = Parse(await _cli.RunAsync("keys", "create", "--consumer", "acme", "--scopes", "a"));
        var (second, _) = Parse(await _cli.RunAsync("keys", "create", "--consumer", "globex"));

        var revoke = await _cli.RunAsync("keys", "revoke", second);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());

        var rotate = await _cli.RunAsync("keys", "rotate", first, "--grace", "2h");
        Assert.True(rotate.ExitCode == 0, rotate.ToString());
        var (third, thirdKey) = Parse(rotate);
        Assert.NotEqual(firstKey, thirdKey);

        var records = (await CliHarness.ReadAsync(KeysTable)).Select(e => ApiKeyFormat.FromEntity(e)!).ToDictionary(r => r.KeyId);
        Assert.False(records[second].Enabled);
        Assert.True(records[first].Enabled);
        Assert.InRange(records[first].ExpiresAt!.Value, TimeProvider.System.GetUtcNow().AddHours(1.9), TimeProvider.System.GetUtcNow().AddHours(2.1));
        Assert.Equal(("acme", true, null), (records[third].ConsumerId, records[third].Enabled, records[third].ExpiresAt));
        Assert.Equal(["a"], records[third].Scopes);

        var list = await _cli.RunAsync("keys", "list", "--consumer", "globex");
        Assert.Contains("revoked", Assert.Single(list.StdoutLines.Skip(1)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoke_and_rotate_never_overwrite_a_key_changed_after_they_read_it_unless_forced()
    {
        var (keyId, _) = Parse(await _cli.RunAsync("keys", "create", "--consumer", "acme", "--scopes", "a"));
        var hash = Assert.Single(await CliHarness.ReadAsync(KeysTable)).RowKey;
        var scopes = 0;

        // Someone narrows the key's scopes (Storage Explorer, a second fgw) between fgw's read and its write.
        async Task EditScopes(CliCheckpoint point)
        {
            if (point == CliCheckpoint.BeforeWrite)
            {
                await KeysTable.UpdateEntityAsync(new TableEntity(hash[..2], hash) { ["Scopes"] = $"edited-{++scopes}" }, Azure.ETag.All, TableUpdateMode.Merge);
            }
        }

        var revoke = await _cli.RunAsync(EditScopes, "keys", "revoke", keyId);

        Assert.True(revoke.ExitCode == 4, revoke.ToString());
        Assert.Contains($"error: API key {keyId} (consumer 'acme') changed in storage after fgw read it. Nothing was written.", revoke.Stderr, StringComparison.Ordinal);
        var record = ApiKeyFormat.FromEntity(Assert.Single(await CliHarness.ReadAsync(KeysTable)))!;
        Assert.True(record.Enabled);
        Assert.Equal(["edited-1"], record.Scopes);

        var rotate = await _cli.RunAsync(EditScopes, "keys", "rotate", keyId, "--grace", "0");

        Assert.True(rotate.ExitCode == 4, rotate.ToString());
        Assert.Contains("Nothing was written (the new key was removed again).", rotate.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("key: ", rotate.Stdout, StringComparison.Ordinal);
        record = ApiKeyFormat.FromEntity(Assert.Single(await CliHarness.ReadAsync(KeysTable)))!;
        Assert.True(record.Enabled);
        Assert.Equal(["edited-2"], record.Scopes);

        // --force writes what fgw read, over the edit (the behaviour before conditional writes).
        var forced = await _cli.RunAsync(EditScopes, "keys", "revoke", keyId, "--force");

        Assert.True(forced.ExitCode == 0, forced.ToString());
        record = ApiKeyFormat.FromEntity(Assert.Single(await CliHarness.ReadAsync(KeysTable)))!;
        Assert.False(record.Enabled);
        Assert.Equal(["edited-2"], record.Scopes);
    }

    [Fact]
    public async Task List_warns_of_a_key_row_the_gateway_cannot_use_instead_of_hiding_it()
    {
        var (keyId, key) = Parse(await _cli.RunAsync("keys", "create", "--consumer", "acme"));
        var (brokenId, brokenKey) = Parse(await _cli.RunAsync("keys", "create", "--consumer", "globex"));
        var broken = (await CliHarness.ReadAsync(KeysTable)).Single(e => e.RowKey == ApiKeyFormat.Hash(brokenKey));
        broken["ConsumerId"] = 42; // az storage entity insert ConsumerId=42 stores an Int32
        await KeysTable.UpsertEntityAsync(broken, TableUpdateMode.Replace);

        var list = await _cli.RunAsync("keys", "list");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches($@"^{keyId}\s+acme\s+", list.StdoutLines[1]);
        Assert.DoesNotContain(brokenId, list.Stdout, StringComparison.Ordinal);
        Assert.Contains($"warning: key {brokenId} in {KeysTable.Name} is not a usable key record and authenticates no one: ConsumerId must be a string, not an Int32.", list.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(brokenKey, list.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(broken.RowKey, list.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(key, list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_or_malformed_key_ids_fail_and_an_empty_table_lists_nothing()
    {
        var list = await _cli.RunAsync("keys", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.StartsWith("No API keys in ", list.Stdout, StringComparison.Ordinal);

        await _cli.RunAsync("keys", "create", "--consumer", "acme");
        Assert.Equal(1, (await _cli.RunAsync("keys", "revoke", "k-000000000000")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("keys", "revoke", "k-x' or true")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("keys", "create")).ExitCode);
    }

    [Fact]
    public async Task Basic_hash_prints_a_hash_the_gateway_accepts()
    {
        var result = await CliHarness.RunRawAsync(["basic", "hash", "--password", "s3cret", "--iterations", "100000"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(PasswordHash.TryParse(result.Stdout.Trim(), out var hash, out _));
        Assert.True(hash!.Verify("s3cret"));
        Assert.False(hash.Verify("s3cret "));
        Assert.StartsWith("pbkdf2-sha256:100000:", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, (await CliHarness.RunRawAsync(["basic", "hash", "--password", "x", "--iterations", "1000"])).ExitCode);
    }

    public void Dispose() => _cli.Dispose();
}
