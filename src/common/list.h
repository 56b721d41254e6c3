/* list.h — intrusive doubly linked lists: structs with `next` and `prev` members, a head pointer.
 *
 * Macros rather than functions so one pair serves every element type; head and item are
 * evaluated more than once, so pass plain lvalues. */
#pragma once

#include <stddef.h>

/* Puts item first in the list that head points to. */
#define LIST_PREPEND(head, item)                   \
        do {                                       \
                (item)->prev = NULL;               \
                (item)->next = (head);             \
                if (head)                          \
                        (head)->prev = (item);     \
                (head) = (item);                   \
        } while (0)

/* Takes item out of the list that head points to; its next and prev become NULL. */
#define LIST_REMOVE(head, item)                                  \
        do {                                                     \
                if ((item)->prev)                                \
                        (item)->prev->next = (item)->next;       \
                else                                             \
                        (head) = (item)->next;                   \
                if ((item)->next)                                \
                        (item)->next->prev = (item)->prev;       \
                (item)->next = (item)->prev = NULL;              \
        } while (0)
