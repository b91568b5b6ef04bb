-- A reservation past its expiry is charged in full (its call may have been paid for), but kept,
-- marked: a call that outlived it (a long stream) still settles, and the settlement then corrects
-- the charge to the call's actual cost instead of finding nothing. Expired rows no call settles (its
-- replica died) are deleted a day later.
alter table budget_reservation add column expired boolean not null default false;
