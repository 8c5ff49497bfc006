using System;
using SyncPool.Native;

namespace SyncPool.Table;

/// <summary>
/// A table key made ready for the native core: text (as strict UTF-8) or a
/// 64-bit integer. Case rules are not applied here: the core decides them.
/// A ref struct so short keys are encoded into a stack buffer, not the heap.
/// </summary>
internal readonly ref struct EncodedKey
{
    /// <summary>Stack bytes callers reserve for key text (longer keys use the heap).</summary>
    public const int ScratchBytes = 256;

    public readonly KeyKind Kind;
    public readonly long Number;
    public readonly ReadOnlySpan<byte> Utf8;

    private EncodedKey(KeyKind kind, long number, ReadOnlySpan<byte> utf8)
    {
        Kind = kind;
        Number = number;
        Utf8 = utf8;
    }

    /// <summary>Accepts strings, chars and integer types, like a hashtable's usual keys.</summary>
    public static EncodedKey From(object? key, Span<byte> scratch)
    {
        key = PowerShellValues.Unwrap(key);
        switch (key)
        {
            case null:
                throw new ArgumentNullException(nameof(key), "A SyncTable key cannot be null.");
            case string text:
                return new EncodedKey(KeyKind.Text, 0, StrictUtf8.Encode(text, scratch, "key"));
            case char c:
                return new EncodedKey(KeyKind.Text, 0, StrictUtf8.Encode(c.ToString(), scratch, "key"));
            case int or long or short or sbyte or byte or ushort or uint:
                return new EncodedKey(KeyKind.Int, Convert.ToInt64(key), default);
            case ulong big when big <= long.MaxValue:
                return new EncodedKey(KeyKind.Int, (long)big, default);
            default:
                throw new ArgumentException(
                    $"A SyncTable key must be a string or an integer; a key of type [{key.GetType().FullName}] is not supported.", nameof(key));
        }
    }

    /// <summary>The native view; <paramref name="pinned"/> must point at <see cref="Utf8"/> for the call's duration.</summary>
    public unsafe KeyIn ToNative(byte* pinned) => new()
    {
        kind = Kind,
        number = Number,
        text = SliceByte.From((IntPtr)pinned, (ulong)Utf8.Length),
    };

    /// <summary>The .NET key a native key came back as.</summary>
    public static object Decode(KeyOut key)
    {
        if (key.IsInt) return ValueCodec.Narrow(key.AsInt());
        return key.AsText().String;
    }
}
