# Pester 5 suite for Start-ParallelTask -AsJob and the standard job cmdlets,
# adapted from what PowerShell's own ThreadJob.Tests.ps1 and
# Foreach-Object-Parallel.Tests.ps1 (-AsJob) check: job states and
# JobStateInfo.Reason, Get-Job by id, instance id, name, state and command,
# the streams on the (child) job objects, what Receive-Job writes, throttle
# and setup inside jobs, Stop-Job, Remove-Job (-Force), Receive-Job -Wait
# -AutoRemoveJob, and a task piped to a job cmdlet. Every wait is bounded.

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force

    function Remove-AllJobs {
        Get-Job | Where-Object PSJobTypeName -eq 'ParallelJob' | Remove-Job -Force
        Get-ParallelTask | Remove-ParallelTask -Force -Confirm:$false
    }
}

Describe 'Start-ParallelTask -AsJob returns one job for the call' {
    BeforeEach { Register-CurrentTest }
    AfterEach { Remove-AllJobs }

    It 'has one child job per task, named after the task, and runs them all' {
        $job = 1..3 | Start-ParallelTask { $_ * 10 } -AsJob -Name calc
        $job.GetType().Name | Should -Be 'ParallelJob'
        $job.PSJobTypeName | Should -Be 'ParallelJob'
        $job.Name | Should -Be 'calc'
        $job.ChildJobs.Count | Should -Be 3
        $job.ChildJobs[0].PSJobTypeName | Should -Be 'ParallelTaskJob'
        $job | Wait-Job -Timeout 30 | Out-Null
        $job.State | Should -Be 'Completed'
        ($job | Receive-Job | Sort-Object) | Should -Be @(10, 20, 30)
    }

    It 'is found by Get-Job by id, instance id, name, state and command' {
        $job = Start-ParallelTask { Start-Sleep -Milliseconds 500; 'x' } -AsJob -Name 'find-me'
        (Get-Job -Id $job.Id).InstanceId | Should -Be $job.InstanceId
        (Get-Job -InstanceId $job.InstanceId).Name | Should -Be 'find-me'
        (Get-Job -Name 'find-me').Id | Should -Be $job.Id
        (Get-Job -Name 'find-*').Id | Should -Be $job.Id
        (Get-Job -State Running).InstanceId | Should -Contain $job.InstanceId
        (Get-Job -Command '*Start-Sleep*').InstanceId | Should -Contain $job.InstanceId
        $job | Wait-Job -Timeout 30 | Out-Null
        (Get-Job -State Completed).InstanceId | Should -Contain $job.InstanceId
    }

    It 'shows in Get-Job | Format-Table like other jobs' {
        $job = Start-ParallelTask { 1 } -AsJob -Name 'table-view'
        $job | Wait-Job -Timeout 30 | Out-Null
        $text = Get-Job -Name 'table-view' | Format-Table | Out-String -Width 120
        $text | Should -Match 'table-view\s+ParallelJob\s+Completed\s+True'
    }

    It 'keeps each stream on the child job, and Receive-Job writes them as their record types' {
        $job = Start-ParallelTask {
            'out1'
            Write-Error 'err1'
            Write-Warning 'warn1'
            Write-Verbose 'verbose1' -Verbose
            Write-Debug 'debug1' -Debug
            Write-Information 'info1'
            Write-Progress -Activity 'act' -Status 'st'
            'out2'
        } -AsJob
        $job | Wait-Job -Timeout 30 | Out-Null
        $child = $job.ChildJobs[0]
        $child.Output | Should -Be @('out1', 'out2')
        $child.Error[0].Exception.Message | Should -Be 'err1'
        $child.Warning[0].Message | Should -Be 'warn1'
        $child.Verbose[0].Message | Should -Be 'verbose1'
        $child.Debug[0].Message | Should -Be 'debug1'
        $child.Information[0].MessageData | Should -Be 'info1'
        $child.Progress.Count | Should -BeGreaterThan 0
        $all = $job | Receive-Job -Keep -ErrorAction Continue -WarningAction Continue -InformationAction Continue 2>&1 3>&1 6>&1
        ($all | Where-Object { $_ -is [string] }) | Should -Be @('out1', 'out2')
        @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count | Should -Be 1
        @($all | Where-Object { $_ -is [System.Management.Automation.WarningRecord] }).Count | Should -Be 1
        @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] }).Count | Should -Be 1
    }

    It 'keeps the original error identity through Receive-Job' {
        $job = Start-ParallelTask { Get-Item -LiteralPath '/no/such/path/42' } -AsJob
        $job | Wait-Job -Timeout 30 | Out-Null
        $job | Receive-Job -ErrorVariable got -ErrorAction SilentlyContinue
        $got[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
        $got[0].InvocationInfo.MyCommand.Name | Should -Be 'Get-Item'
    }

    It 'lets Receive-Job read output while the job still runs' {
        $job = Start-ParallelTask { 'early'; Start-Sleep 10; 'late' } -AsJob
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ($job.ChildJobs[0].Output.Count -eq 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $job.ChildJobs[0].State | Should -Be 'Running'
        $job | Receive-Job | Should -Be 'early'
        $job | Stop-Job
    }
}

Describe 'Job states and reasons' {
    BeforeEach { Register-CurrentTest }
    AfterEach { Remove-AllJobs }

    It 'is Failed with the terminating error as the failed child''s reason when a task fails' {
        $job = 1..2 | Start-ParallelTask { if ($_ -eq 2) { throw 'boom' }; 'fine' } -AsJob
        $job | Wait-Job -Timeout 30 | Out-Null
        $job.State | Should -Be 'Failed'
        $failed = $job.ChildJobs | Where-Object { $_.JobStateInfo.State -eq 'Failed' }
        $failed.JobStateInfo.Reason.Message | Should -Be 'boom'
        ($job.ChildJobs | ForEach-Object { $_.JobStateInfo.State }) | Sort-Object | Should -Be @('Completed', 'Failed')
        ($job | Receive-Job -ErrorAction SilentlyContinue -ErrorVariable got) | Should -Be 'fine'
        # As with Start-Job, the parent carries no reason of its own, which Receive-Job
        # would write a second time: the error record, and the child's reason.
        $job.JobStateInfo.Reason | Should -BeNullOrEmpty
        @($got | Where-Object { "$_" -eq 'boom' }).Count | Should -Be 2
    }

    It 'is Failed with a TimeoutException as the reason when a task times out, keeping its output' {
        $job = Start-ParallelTask { 'before'; Start-Sleep 10 } -TimeoutSeconds 0.5 -AsJob
        $job | Wait-Job -Timeout 30 | Out-Null
        $job.State | Should -Be 'Failed'
        $job.ChildJobs[0].JobStateInfo.Reason | Should -BeOfType [System.TimeoutException]
        # Receive-Job writes a failed job's reason as an error, after what it wrote.
        $job | Receive-Job -ErrorAction SilentlyContinue -ErrorVariable got | Should -Be 'before'
        "$got" | Should -Match 'timed out after 0.5 s'
        @($got | Where-Object { "$_" -match 'timed out after' }).Count | Should -Be 1 -Because 'the reason is written once (it was also on the parent)'
    }

    It 'goes NotStarted -> Running -> Completed in the child jobs as the tasks are queued and run' {
        $job = 1..3 | Start-ParallelTask { Start-Sleep -Milliseconds 400 } -ThrottleLimit 1 -AsJob
        $job.ChildJobs[2].State | Should -Be 'NotStarted'
        $job | Wait-Job -Timeout 30 | Out-Null
        ($job.ChildJobs | ForEach-Object { $_.State }) | Should -Be @('Completed', 'Completed', 'Completed')
    }

    It 'Stop-Job never runs the scripts of the job''s queued tasks' {
        # Each running task's stop freed a slot a queued task took before its own stop (QA: 4 to 100 of 100 ran).
        $ran = New-SyncTable
        $job = 1..60 | Start-ParallelTask { ($using:ran)["ran$_"] = 1; Start-Sleep -Seconds 30 } -ThrottleLimit 3 -AsJob
        $sw = [Diagnostics.Stopwatch]::StartNew()
        while ($ran.Count -lt 3 -and $sw.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 20 }
        $ran.Count | Should -Be 3 -Because 'three scripts run at once'
        $job | Stop-Job
        Start-Sleep -Milliseconds 500
        $ran.Count | Should -Be 3
        $job.State | Should -Be 'Stopped'
    }

    It 'Stop-Job stops every task at once and ends Stopped' {
        $job = 1..4 | Start-ParallelTask { Start-Sleep 30 } -ThrottleLimit 2 -AsJob
        Start-Sleep -Milliseconds 300
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $job | Stop-Job
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        $job.State | Should -Be 'Stopped'
        $job.JobStateInfo.Reason | Should -BeOfType [System.Management.Automation.PipelineStoppedException]
        ($job.ChildJobs | ForEach-Object { $_.State }) | Sort-Object -Unique | Should -Be 'Stopped'
    }
}

Describe 'Throttle and setup inside jobs' {
    BeforeEach { Register-CurrentTest }
    AfterEach { Remove-AllJobs }

    It 'runs at most -ThrottleLimit tasks of the job at once' {
        $job = 1..6 | Start-ParallelTask {
            $start = [DateTime]::UtcNow
            Start-Sleep -Milliseconds 300
            [pscustomobject]@{ Start = $start; End = [DateTime]::UtcNow }
        } -ThrottleLimit 2 -AsJob
        $job | Wait-Job -Timeout 30 | Out-Null
        Get-PeakOverlap @($job | Receive-Job) | Should -Be 2
    }

    It 'gives the tasks -Variable, -ImportFunction and $using: values' {
        function Get-Greeting { param($n) "hello $n" }
        $suffix = '!'
        $job = 1..2 | Start-ParallelTask { (Get-Greeting $_) + $using:suffix + $Extra } -ImportFunction Get-Greeting -Variable @{ Extra = '?' } -AsJob
        $job | Wait-Job -Timeout 30 | Out-Null
        ($job | Receive-Job | Sort-Object) | Should -Be @('hello 1!?', 'hello 2!?')
    }

    It 'runs on a named pool too' {
        $pool = New-ParallelPool -Name "jobs-$([guid]::NewGuid().ToString('N'))" -ThrottleLimit 2
        try {
            $job = 1..3 | Start-ParallelTask { $_ } -Pool $pool -AsJob
            $job | Wait-Job -Timeout 30 | Out-Null
            ($job | Receive-Job | Sort-Object) | Should -Be @(1, 2, 3)
        }
        finally {
            Remove-ParallelPool -Pool $pool -Confirm:$false
        }
    }
}

Describe 'Removing jobs and what they leave' {
    BeforeEach { Register-CurrentTest }
    AfterEach { Remove-AllJobs }

    It 'Receive-Job -Wait -AutoRemoveJob writes everything and removes the job' {
        $r = 1..3 | Start-ParallelTask { "r$_" } -AsJob | Receive-Job -Wait -AutoRemoveJob
        ($r | Sort-Object) | Should -Be @('r1', 'r2', 'r3')
        @(Get-Job | Where-Object PSJobTypeName -eq 'ParallelJob').Count | Should -Be 0
    }

    It 'takes finished tasks out of Get-ParallelTask (they belong to the job)' {
        $job = 1..3 | Start-ParallelTask { $_ } -AsJob
        $job | Wait-Job -Timeout 30 | Out-Null
        # The job's watcher takes each task out as it finishes; give it a moment after the last.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (@(Get-ParallelTask).Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        @(Get-ParallelTask).Count | Should -Be 0
    }

    It 'refuses Remove-Job of a running job, and Remove-Job -Force stops its tasks and frees the workers' {
        $job = 1..3 | Start-ParallelTask { Start-Sleep 30 } -ThrottleLimit 3 -AsJob
        Start-Sleep -Milliseconds 300
        { $job | Remove-Job -ErrorAction Stop } | Should -Throw -ErrorId 'JobObjectNotFinishedCannotBeRemoved,*'
        $tasks = $job.ChildJobs.Task
        $job | Remove-Job -Force
        @(Get-Job | Where-Object InstanceId -eq $job.InstanceId).Count | Should -Be 0
        ($tasks | ForEach-Object { $_.State }) | Sort-Object -Unique | Should -Be 'Stopped'
        # No worker keeps running its script: the per-call pool is gone once its tasks are.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (@(Get-ParallelPool | Where-Object { $_.Counts.Workers -gt 0 }).Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        @(Get-ParallelPool | Where-Object { $_.Counts.Workers -gt 0 }).Count | Should -Be 0
    }

    It 'stops the tasks of a call that was stopped before it could write its job' {
        $ps = [powershell]::Create()
        $name = "stop-me-$([guid]::NewGuid().ToString('N'))"
        $null = $ps.AddScript("Import-Module '$env:SYNCPOOL_MODULE_PATH'; & { 1; Start-Sleep 30; 2 } | Start-ParallelTask { Start-Sleep 30 } -Name { '$name' } -AsJob")
        $handle = $ps.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (@(Get-ParallelTask -Name $name -State Running -ErrorAction SilentlyContinue).Count -eq 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $task = @(Get-ParallelTask -Name $name -State Running)[0]
        $task | Should -Not -BeNullOrEmpty
        $ps.Stop()
        $null = $handle
        $ps.Dispose()
        $task.State | Should -Be 'Stopped'
        # No job holds them, so nobody could ever receive or remove them: they are not left listed.
        @(Get-ParallelTask -Name $name -ErrorAction SilentlyContinue).Count | Should -Be 0
    }
}

Describe 'A task given to a job cmdlet' {
    BeforeEach { Register-CurrentTest }
    AfterEach { Remove-AllJobs }

    It 'is not a job: the lookup says which SyncPool cmdlet to use' {
        $task = Start-ParallelTask { 1 } -Name "not-a-job-$([guid]::NewGuid().ToString('N'))"
        $warnings = $task | Wait-Job -ErrorAction SilentlyContinue -ErrorVariable errors 3>&1
        "$warnings" | Should -Match 'is a SyncPool parallel task, not a job. Use Wait-ParallelTask'
        $errors.Count | Should -BeGreaterThan 0
        $task | Wait-ParallelTask -Receive | Should -Be 1
    }
}
