#!/bin/sh
# tasks_smp4: tasks_smp2's steps (its guest.sh, in the image as
# /klpt/scenarios/tasks_smp2.sh) on 4 vCPUs (vm.env).
exec sh /klpt/scenarios/tasks_smp2.sh
