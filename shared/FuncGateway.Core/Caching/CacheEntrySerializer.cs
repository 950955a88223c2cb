namespace FuncGateway.Caching;

/// <summary>A cache entry as bytes for the shared tier: a version byte, then fields in a fixed order.</summary>
internal static class CacheEntrySerializer
{
    private const byte Version = 1;

    public static byte[] Write(CacheEntry entry)
    {
        using var stream = new MemoryStream(entry.Body.Length + 512);
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Version);
            writer.Write(entry.Key);
            writer.Write(entry.RouteId);
            writer.Write(entry.Path);
            writer.Write(entry.Status);
            writer.Write(entry.StoredAt);
            writer.Write(entry.FreshUntil);
            writer.Write(entry.StaleIfErrorUntil);
            writer.Write(entry.StaleWhileRevalidateUntil);
            writer.Write(entry.InitialAge);
            writer.Write(entry.Tags.Length);
            foreach (var tag in entry.Tags)
            {
                writer.Write(tag);
            }

            writer.Write(entry.Headers.Length);
            foreach (var (name, values) in entry.Headers)
            {
                writer.Write(name);
                writer.Write(values.Length);
                foreach (var value in values)
                {
                    writer.Write(value);
                }
            }

            writer.Write(entry.Body.Length);
            writer.Write(entry.Body);
        }

        return stream.ToArray();
    }

    /// <summary>The entry, or null for bytes of another version or shape.</summary>
    public static CacheEntry? Read(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes));
            if (reader.ReadByte() != Version)
            {
                return null;
            }

            var key = reader.ReadString();
            var routeId = reader.ReadString();
            var path = reader.ReadString();
            var status = reader.ReadInt32();
            var storedAt = reader.ReadInt64();
            var freshUntil = reader.ReadInt64();
            var staleIfError = reader.ReadInt64();
            var staleWhileRevalidate = reader.ReadInt64();
            var initialAge = reader.ReadInt32();
            var tags = new string[reader.ReadInt32()];
            for (var i = 0; i < tags.Length; i++)
            {
                tags[i] = reader.ReadString();
            }

            var headers = new KeyValuePair<string, string[]>[reader.ReadInt32()];
            for (var i = 0; i < headers.Length; i++)
            {
                var name = reader.ReadString();
                var values = new string[reader.ReadInt32()];
                for (var j = 0; j < values.Length; j++)
                {
                    values[j] = reader.ReadString();
                }

                headers[i] = new(name, values);
            }

            var body = reader.ReadBytes(reader.ReadInt32());
            return new CacheEntry(key, routeId, path, status, headers, body, storedAt, freshUntil, staleIfError, staleWhileRevalidate, initialAge, tags);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or OverflowException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
