//! Group commit: the writes of concurrent requests run together, one batch at a
//! time, so that the refresh rotations waiting together cost one transaction
//! rather than one each, queued on the database's write lock (SQLite's busy
//! handler sleeps while it waits, which made refresh's p99).
//!
//! No task runs in the background. A caller queues its job and waits for the
//! leader's lock; whoever holds it takes every queued job (at most `max_batch`)
//! and runs them as one batch, then answers each job's waiter. A caller whose job
//! an earlier batch took finds its answer when the lock comes to it. The batch
//! runs on a task of its own that holds the lock, so a request dropped while it
//! leads (its client went away) neither cancels the batch nor lets another batch
//! start beside it.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot::{self, error::TryRecvError};

pub struct GroupCommit<J, R> {
    queue: Mutex<Vec<(J, oneshot::Sender<R>)>>,
    leader: Arc<tokio::sync::Mutex<()>>,
    max_batch: usize,
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    pub fn new(max_batch: usize) -> Self {
        GroupCommit {
            queue: Mutex::new(Vec::new()),
            leader: Arc::new(tokio::sync::Mutex::new(())),
            max_batch: max_batch.max(1),
        }
    }

    /// Runs `job` in a batch with whatever else is waiting; `run` takes the jobs
    /// of one batch and answers one result per job, in order. `None` when the
    /// batch ended without an answer (it panicked).
    pub async fn submit<F, Fut>(&self, job: J, run: F) -> Option<R>
    where
        F: Fn(Vec<J>) -> Fut,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (tx, mut rx) = oneshot::channel();
        self.lock_queue().push((job, tx));
        loop {
            let guard = self.leader.clone().lock_owned().await;
            match rx.try_recv() {
                Ok(result) => return Some(result),
                Err(TryRecvError::Closed) => return None,
                Err(TryRecvError::Empty) => {}
            }
            let batch: Vec<_> = {
                let mut queue = self.lock_queue();
                let n = queue.len().min(self.max_batch);
                queue.drain(..n).collect()
            };
            let (jobs, waiters): (Vec<J>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
            let work = run(jobs);
            let batch = tokio::spawn(async move {
                let results = work.await;
                for (waiter, result) in waiters.into_iter().zip(results) {
                    let _ = waiter.send(result);
                }
                drop(guard);
            });
            // A panicked batch drops its waiters, which then read `Closed`.
            let _ = batch.await;
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<(J, oneshot::Sender<R>)>> {
        // The queue is only pushed to and drained; a panic elsewhere cannot leave
        // it half changed.
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_is_answered_once_and_waiting_jobs_share_a_batch() {
        let commit = Arc::new(GroupCommit::<u32, u32>::new(8));
        let batches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..64u32 {
            let commit = commit.clone();
            let batches = batches.clone();
            tasks.push(tokio::spawn(async move {
                commit
                    .submit(i, move |jobs: Vec<u32>| {
                        let batches = batches.clone();
                        async move {
                            assert!(jobs.len() <= 8, "a batch of {} is over its bound", jobs.len());
                            batches.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                            jobs.into_iter().map(|j| j * 2).collect()
                        }
                    })
                    .await
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), Some(i as u32 * 2));
        }
        let batches = batches.load(Ordering::SeqCst);
        assert!(batches >= 8, "64 jobs in batches of at most 8 need 8 batches, ran {batches}");
        assert!(batches < 64, "jobs waiting together should share batches, ran {batches}");
    }

    #[tokio::test]
    async fn a_panicking_batch_answers_none_and_the_next_batch_runs() {
        let commit = GroupCommit::<u32, u32>::new(4);
        let failed = commit.submit(1, |_jobs: Vec<u32>| async { panic!("the batch failed") }).await;
        assert_eq!(failed, None);
        let ok = commit.submit(2, |jobs: Vec<u32>| async move { jobs }).await;
        assert_eq!(ok, Some(2));
    }
}
