using System;
using System.Collections;

namespace SyncPool.Table;

/// <summary>
/// Key equality for snapshot hashtables: strings by the table's case rule
/// (OrdinalIgnoreCase or Ordinal), integers by value, "1" and 1 distinct.
/// </summary>
internal sealed class KeyComparer : IEqualityComparer
{
    public static readonly KeyComparer IgnoreCase = new(StringComparer.OrdinalIgnoreCase);
    public static readonly KeyComparer Ordinal = new(StringComparer.Ordinal);

    private readonly StringComparer _text;

    private KeyComparer(StringComparer text) => _text = text;

    public new bool Equals(object? x, object? y) => x switch
    {
        string a when y is string b => _text.Equals(a, b),
        string or null => false,
        _ => y is not string && y is not null && Convert.ToInt64(x) == Convert.ToInt64(y),
    };

    public int GetHashCode(object obj) => obj is string s ? _text.GetHashCode(s) : Convert.ToInt64(obj).GetHashCode();
}
