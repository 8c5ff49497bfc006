using System;

namespace SyncPool.Native;

/// <summary>
/// What PowerShell needs of the generated state type: comparison with the
/// names users type (<c>$t.State -eq 'Completed'</c>, <c>-State Failed</c>
/// binds through <see cref="Parse"/>), equality and ordering (Sort-Object,
/// Group-Object). The states themselves are defined once, in Rust.
/// </summary>
public partial struct TaskState : IEquatable<TaskState>, IComparable<TaskState>, IComparable
{
    /// <summary>Every state, in their native order.</summary>
    public static TaskState[] All { get; } = [Queued, Running, Completed, Failed, Stopped, TimedOut];

    /// <summary>The state with this name (case-insensitive), as PowerShell converts strings.</summary>
    public static TaskState Parse(string name)
    {
        foreach (var state in All)
            if (string.Equals(state.ToString(), name?.Trim(), StringComparison.OrdinalIgnoreCase)) return state;
        throw new ArgumentException($"'{name}' is not a task state. Valid states: {string.Join(", ", (object[])Array.ConvertAll(All, s => (object)s))}.", nameof(name));
    }

    /// <summary>The bit of this state in a native state filter.</summary>
    internal uint Bit => 1u << _variant;

    public bool IsFinished => !IsQueued && !IsRunning;

    public bool Equals(TaskState other) => _variant == other._variant;
    public override bool Equals(object? obj) => obj is TaskState other && Equals(other);
    public override int GetHashCode() => _variant;
    public int CompareTo(TaskState other) => _variant.CompareTo(other._variant);
    public int CompareTo(object? obj) => obj is TaskState other ? CompareTo(other) : 1;
    public static bool operator ==(TaskState a, TaskState b) => a.Equals(b);
    public static bool operator !=(TaskState a, TaskState b) => !a.Equals(b);
}
