using System.Management.Automation;

namespace SyncPool.Cmdlets;

/// <summary>
/// A module (-ImportModule) or function (-ImportFunction) a pool's runspaces
/// should get does not exist; <see cref="ErrorId"/> says which
/// (SyncPool.ModuleNotFound or SyncPool.FunctionNotFound).
/// </summary>
internal sealed class SetupItemNotFoundException(string errorId, string message, object target) : ItemNotFoundException(message)
{
    public string ErrorId { get; } = errorId;

    public object Target { get; } = target;

    public ErrorRecord ToErrorRecord() => new(this, ErrorId, ErrorCategory.ObjectNotFound, Target);
}
