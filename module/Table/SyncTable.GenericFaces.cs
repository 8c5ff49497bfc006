using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Linq;

namespace SyncPool.Table;

/// <summary>
/// The table as generic dictionaries, beside its hashtable face, for the
/// shape of PowerShell's binders: <c>$t.name</c> on an
/// <c>IDictionary&lt;string, T&gt;</c> is one TryGetValue call (on a plain
/// IDictionary it is two, Contains and then the indexer), and <c>$t[key]</c>
/// on an <c>IDictionary&lt;TKey, T&gt;</c> is a TryGetValue with the key
/// converted to TKey. The object-keyed face is declared first, so PowerShell
/// indexes through it and <c>$t[3]</c> stays the integer key 3 (through the
/// string-keyed face it would become the text "3"); a test checks that order.
/// </summary>
/// <remarks>
/// The members are explicit, so PowerShell users see only the hashtable
/// surface. On the string-keyed face integer keys appear as their invariant
/// text.
/// </remarks>
public sealed partial class SyncTable
{
    // ---- IDictionary<object, object?>: $t[key] ------------------------------

    /// <summary>
    /// PowerShell's <c>$t[key]</c>. A failed read (a removed table...) gives
    /// PowerShell code the error written instead of thrown (PowerShell
    /// swallows exceptions here; see <see cref="UnthrowableReads"/>).
    /// </summary>
    bool IDictionary<object, object?>.TryGetValue(object key, [MaybeNullWhen(false)] out object? value) =>
        ReadOrReport(key, ownPropertiesStayQuiet: false, out value);

    object? IDictionary<object, object?>.this[object key]
    {
        get => this[key];
        set => Set(key, value);
    }

    ICollection<object> IDictionary<object, object?>.Keys => Keys.Cast<object>().ToList();

    ICollection<object?> IDictionary<object, object?>.Values => Values.Cast<object?>().ToList();

    void IDictionary<object, object?>.Add(object key, object? value) => Add(key, value);

    bool IDictionary<object, object?>.ContainsKey(object key) => Contains(key);

    bool IDictionary<object, object?>.Remove(object key) => TryRemove(key, out _);

    int ICollection<KeyValuePair<object, object?>>.Count => Count;

    bool ICollection<KeyValuePair<object, object?>>.IsReadOnly => false;

    void ICollection<KeyValuePair<object, object?>>.Add(KeyValuePair<object, object?> item) => Add(item.Key, item.Value);

    bool ICollection<KeyValuePair<object, object?>>.Contains(KeyValuePair<object, object?> item) => Holds(item.Key, item.Value);

    void ICollection<KeyValuePair<object, object?>>.CopyTo(KeyValuePair<object, object?>[] array, int arrayIndex) =>
        Pairs(key => key).CopyTo(array, arrayIndex);

    /// <summary>Removes the key if it holds <paramref name="item"/>'s value: a check, then a remove (two steps, not one atomic one).</summary>
    bool ICollection<KeyValuePair<object, object?>>.Remove(KeyValuePair<object, object?> item) => RemoveIfHolds(item.Key, item.Value);

    IEnumerator<KeyValuePair<object, object?>> IEnumerable<KeyValuePair<object, object?>>.GetEnumerator() =>
        Pairs(key => key).GetEnumerator();

    // ---- IDictionary<string, object?>: $t.name --------------------------------

    /// <summary>
    /// PowerShell's <c>$t.name</c>. A failed read (a removed table...) gives
    /// PowerShell code the error written instead of thrown for a data key
    /// (PowerShell swallows exceptions here; see <see cref="UnthrowableReads"/>),
    /// and "no such key" for the table's own properties, so
    /// <c>$t.IsDisposed</c> keeps working.
    /// </summary>
    bool IDictionary<string, object?>.TryGetValue(string key, [MaybeNullWhen(false)] out object? value) =>
        ReadOrReport(key, ownPropertiesStayQuiet: true, out value);

    object? IDictionary<string, object?>.this[string key]
    {
        get => this[key];
        set => Set(key, value);
    }

    ICollection<string> IDictionary<string, object?>.Keys
    {
        get
        {
            var keys = new List<string>();
            foreach (var key in Keys) keys.Add(KeyText(key));
            return keys;
        }
    }

    ICollection<object?> IDictionary<string, object?>.Values => Values.Cast<object?>().ToList();

    void IDictionary<string, object?>.Add(string key, object? value) => Add(key, value);

    bool IDictionary<string, object?>.ContainsKey(string key) => Contains(key);

    bool IDictionary<string, object?>.Remove(string key) => TryRemove(key, out _);

    int ICollection<KeyValuePair<string, object?>>.Count => Count;

    bool ICollection<KeyValuePair<string, object?>>.IsReadOnly => false;

    void ICollection<KeyValuePair<string, object?>>.Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);

    bool ICollection<KeyValuePair<string, object?>>.Contains(KeyValuePair<string, object?> item) => Holds(item.Key, item.Value);

    void ICollection<KeyValuePair<string, object?>>.CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) =>
        Pairs(KeyText).CopyTo(array, arrayIndex);

    /// <summary>Removes the key if it holds <paramref name="item"/>'s value: a check, then a remove (two steps, not one atomic one).</summary>
    bool ICollection<KeyValuePair<string, object?>>.Remove(KeyValuePair<string, object?> item) => RemoveIfHolds(item.Key, item.Value);

    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator() =>
        Pairs(KeyText).GetEnumerator();

    // ---- shared by both faces --------------------------------------------------

    /// <summary>
    /// A keyed read for the faces' TryGetValue. When the read fails (a removed
    /// table, a Redis server that is down) PowerShell code gets the error
    /// written and <see cref="UnthrowableReads.Removed"/> or
    /// <see cref="UnthrowableReads.Unread"/> (PowerShell swallows exceptions
    /// here; see <see cref="UnthrowableReads"/>); with
    /// <paramref name="ownPropertiesStayQuiet"/>, the table's own property names
    /// answer "no such key" instead, so PowerShell falls back to the property.
    /// </summary>
    private bool ReadOrReport(object key, bool ownPropertiesStayQuiet, out object? value)
    {
        try
        {
            return Read(key, out value, out _);
        }
        catch (Exception e) when (UnthrowableReads.Catches(e))
        {
            if (ownPropertiesStayQuiet && key is string name && OwnProperties.Contains(name))
            {
                value = null;
                return false;
            }
            value = UnthrowableReads.Report(this, $"key '{key}'", e);
            return true;
        }
    }

    private bool Holds(object key, object? value) => TryGetValue(key, out var stored) && Equals(stored, value);

    private bool RemoveIfHolds(object key, object? value) => Holds(key, value) && TryRemove(key, out _);

    /// <summary>The entries as pairs, each key given in the face's own key type.</summary>
    private List<KeyValuePair<TKey, object?>> Pairs<TKey>(Func<object, TKey> keyOf)
    {
        var pairs = new List<KeyValuePair<TKey, object?>>();
        foreach (var entry in Entries()) pairs.Add(new KeyValuePair<TKey, object?>(keyOf(entry.Key), entry.Value));
        return pairs;
    }

    private static string KeyText(object key) => key as string ?? Convert.ToString(key, CultureInfo.InvariantCulture)!;
}
