using System;
using System.Threading;

namespace SyncPool.Native;

/// <summary>
/// Makes Dispose safe against calls in flight. The generated bindings neither
/// check for disposal nor synchronise it, and calling a destroyed native
/// object is a crash. Every call enters the guard; Dispose marks it closed and
/// the native object is destroyed when the last call leaves. Calls after
/// Dispose throw <see cref="ObjectDisposedException"/>.
/// </summary>
internal sealed class UseGuard
{
    private const int Closed = int.MinValue;
    private int _state; // number of calls inside, plus Closed once disposed
    private readonly string _objectName;
    private Action? _destroy;

    public UseGuard(string objectName, Action destroy)
    {
        _objectName = objectName;
        _destroy = destroy;
    }

    public bool IsClosed => Volatile.Read(ref _state) < 0;

    public Scope Enter()
    {
        if (Interlocked.Increment(ref _state) < 0)
        {
            Leave();
            throw new ObjectDisposedException(_objectName, $"This {_objectName} has been disposed; create a new one.");
        }
        return new Scope(this);
    }

    /// <summary>Closes the guard; returns false if it was already closed.</summary>
    public bool Close()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state < 0) return false;
            if (Interlocked.CompareExchange(ref _state, state + Closed, state) == state)
            {
                if (state == 0) Destroy();
                return true;
            }
        }
    }

    private void Leave()
    {
        if (Interlocked.Decrement(ref _state) == Closed) Destroy();
    }

    private void Destroy() => Interlocked.Exchange(ref _destroy, null)?.Invoke();

    public readonly struct Scope : IDisposable
    {
        private readonly UseGuard _guard;
        internal Scope(UseGuard guard) => _guard = guard;
        public void Dispose() => _guard.Leave();
    }
}
